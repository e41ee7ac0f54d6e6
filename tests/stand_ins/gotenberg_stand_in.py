#!/usr/bin/env python3
"""A stand-in for Gotenberg's LibreOffice route, speaking its wire protocol.

POST /forms/libreoffice/convert with multipart/form-data, the document(s) in fields named
"files": answers 200 with application/pdf (a small PDF holding the DOCX's text, one line per
paragraph), or Gotenberg's errors: 400 when no file is given, 503 when told to (--fail).
Prints "PORT <n>" on its first line; logs each request's field names and file names to stderr.
"""
import argparse
import email.parser
import email.policy
import http.server
import io
import re
import sys
import zipfile


def tiny_pdf(lines):
    def esc(s):
        return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    text = "BT /F1 11 Tf 50 800 Td 14 TL " + " ".join(
        "(" + esc(l.encode("latin-1", "replace").decode("latin-1")) + ") '" for l in lines) + " ET"
    data = text.encode("latin-1", "replace")
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R >>",
            b"<< /Length " + str(len(data)).encode() + b" >>\nstream\n" + data + b"\nendstream"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, o in enumerate(objs):
        offsets.append(len(out))
        out += str(i + 1).encode() + b" 0 obj\n" + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 " + str(len(objs) + 1).encode() + b"\n0000000000 65535 f \n"
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size " + str(len(objs) + 1).encode() + b" /Root 1 0 R >>\nstartxref\n" + str(xref).encode() + b"\n%%EOF\n"
    return bytes(out)


def docx_lines(data):
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        xml = z.read("word/document.xml").decode("utf-8")
    lines = []
    for para in re.findall(r"<w:p[ >].*?</w:p>", xml, re.S):
        t = "".join(re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", para))
        t = t.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        if t.strip():
            lines.append(t)
    return lines


class Handler(http.server.BaseHTTPRequestHandler):
    fail = False

    def do_POST(self):
        if self.path != "/forms/libreoffice/convert":
            self.send_error(404)
            return
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + body)
        files = [p for p in msg.iter_parts() if p.get_param("name", header="content-disposition") == "files"]
        sys.stderr.write("request fields=%s filenames=%s\n" % (
            [p.get_param("name", header="content-disposition") for p in msg.iter_parts()],
            [p.get_filename() for p in files]))
        if Handler.fail:
            self.reply(503, b"Service Unavailable", "text/plain")
            return
        if not files:
            self.reply(400, b"no form file found for extensions: [.docx]", "text/plain")
            return
        self.reply(200, tiny_pdf(docx_lines(files[0].get_payload(decode=True))), "application/pdf")

    def reply(self, status, data, ctype):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fail", action="store_true")
    a = ap.parse_args()
    Handler.fail = a.fail
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print("PORT %d" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
