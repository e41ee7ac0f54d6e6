"""Early refusals seen by Python `requests` streaming a file (raw body and multipart).

Usage: python3 early_reject.py CASES_JSON FILE. Prints one JSON object per case, in a list.
"""
import json
import sys

import requests

cases = json.load(open(sys.argv[1]))
path = sys.argv[2]
out = []
for k in cases["cases"]:
    url = cases["base"] + k["path"]
    headers = {"Authorization": "Bearer " + k["key"]}
    try:
        with open(path, "rb") as f:
            if k.get("multipart"):
                r = requests.post(url, headers=headers, data={"model": "whisper-1"},
                                  files={"file": ("rendez-vous.wav", f, "audio/wav")}, timeout=30)
            else:
                headers["Content-Type"] = "audio/wav"
                r = requests.post(url, headers=headers, data=f, timeout=30)
        try:
            body = r.json()
        except ValueError:
            body = None
        out.append({"name": k["name"], "status": r.status_code, "json": body})
    except requests.RequestException as e:
        out.append({"name": k["name"], "status": None, "error": type(e).__name__ + ": " + str(e)[:200]})
print(json.dumps(out))
