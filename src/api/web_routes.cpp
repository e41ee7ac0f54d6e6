// The home page at `/`: sign in, then search the firm's clients — a small page embedded in the
// binary (no files to install), in French. It speaks to the same /api as every other client.
#include "api/app.h"

namespace crm::api {

using http::AuthMode;
using http::Request;
using http::Response;

namespace {

const char* kIndexHtml = R"html(<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>crm-ai</title>
<link rel="stylesheet" href="/assets/app.css">
</head>
<body>
<header><h1>crm-ai</h1><span id="who"></span><button id="logout" hidden>Se déconnecter</button></header>
<main>
  <form id="login" hidden>
    <h2>Connexion</h2>
    <label>Adresse e-mail <input name="email" type="email" autocomplete="username" required></label>
    <label>Mot de passe <input name="password" type="password" autocomplete="current-password" required></label>
    <button type="submit">Se connecter</button>
    <p class="error" id="login-error" role="alert"></p>
  </form>
  <section id="clients" hidden>
    <h2>Clients</h2>
    <input id="q" type="search" placeholder="Rechercher (nom, e-mail, n° de dossier, étiquette)…" aria-label="Rechercher un client">
    <table><thead><tr><th>Nom</th><th>E-mail</th><th>Téléphone</th><th>Dossier</th><th>Étiquettes</th></tr></thead>
    <tbody id="rows"></tbody></table>
    <p id="empty" hidden>Aucun client ne correspond.</p>
  </section>
</main>
<footer>API : <a href="/api/openapi.json">/api/openapi.json</a> · État : <a href="/health/ready">/health/ready</a></footer>
<script src="/assets/app.js"></script>
</body>
</html>
)html";

const char* kAppCss = R"css(body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1d2433;background:#f6f7f9}
header{display:flex;gap:1rem;align-items:center;padding:.75rem 1.5rem;background:#1d3557;color:#fff}
header h1{font-size:1.2rem;margin:0;flex:1}main{max-width:960px;margin:2rem auto;padding:0 1rem}
form{display:grid;gap:.75rem;max-width:360px;background:#fff;padding:1.5rem;border-radius:8px}
label{display:grid;gap:.25rem}input{padding:.5rem;border:1px solid #c8ced8;border-radius:4px;font:inherit}
button{padding:.5rem 1rem;border:0;border-radius:4px;background:#457b9d;color:#fff;font:inherit;cursor:pointer}
table{width:100%;border-collapse:collapse;background:#fff;margin-top:1rem}th,td{text-align:left;padding:.5rem;border-bottom:1px solid #e3e6ea}
#q{width:100%;box-sizing:border-box}.error{color:#b00020;min-height:1.5em}footer{text-align:center;color:#667;padding:2rem}
.tag{display:inline-block;background:#e8eef4;border-radius:3px;padding:0 .4rem;margin-right:.25rem;font-size:.85em}
)css";

const char* kAppJs = R"js('use strict';
let csrf = '';
const $ = (id) => document.getElementById(id);
async function api(method, path, body) {
  const headers = {'Accept': 'application/json'};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET') headers['X-CSRF-Token'] = csrf;
  const res = await fetch(path, {method, headers, credentials: 'same-origin',
                                 body: body === undefined ? undefined : JSON.stringify(body)});
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) throw new Error((data && data.error && data.error.message) || ('Erreur ' + res.status));
  return data;
}
function cell(text) { const td = document.createElement('td'); td.textContent = text || ''; return td; }
async function loadClients() {
  const q = $('q').value.trim();
  const page = await api('GET', '/api/clients?limit=50&sort=name' + (q ? '&q=' + encodeURIComponent(q) : ''));
  const rows = $('rows');
  rows.replaceChildren();
  for (const c of page.data) {
    const tr = document.createElement('tr');
    tr.append(cell(c.name), cell(c.email), cell(c.phone), cell(c.reference));
    const tags = document.createElement('td');
    for (const t of c.tags) { const s = document.createElement('span'); s.className = 'tag'; s.textContent = t; tags.append(s); }
    tr.append(tags);
    rows.append(tr);
  }
  $('empty').hidden = page.data.length > 0;
}
function show(me) {
  const signedIn = !!me;
  $('login').hidden = signedIn; $('clients').hidden = !signedIn; $('logout').hidden = !signedIn;
  $('who').textContent = signedIn ? (me.name || me.email) : '';
  if (signedIn) { csrf = me.csrf_token || ''; loadClients().catch((e) => alert(e.message)); }
}
$('login').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  try { show(await api('POST', '/api/auth/login', {email: f.get('email'), password: f.get('password')})); $('login-error').textContent = ''; }
  catch (e) { $('login-error').textContent = e.message; }
});
$('logout').addEventListener('click', async () => { await api('POST', '/api/auth/logout').catch(() => {}); show(null); });
let timer;
$('q').addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => loadClients().catch(() => {}), 200); });
api('GET', '/api/auth/me').then(show).catch(() => show(null));
)js";

Response Asset(const char* body, const char* type) {
  Response r = Response::Text(200, body, type);
  r.Header("Cache-Control", "no-cache");
  return r;
}

}  // namespace

void RegisterWebRoutes(http::Router& r, App& app) {
  http::RouteOptions page{.auth = AuthMode::kNone, .rate_limited = false, .tag = "web"};
  page.summary = "Page d'accueil : connexion et recherche de clients";
  r.Add("GET", "/", [](Request&) { return Asset(kIndexHtml, "text/html; charset=utf-8"); }, page);
  page.summary = "Script de la page d'accueil";
  r.Add("GET", "/assets/app.js", [](Request&) { return Asset(kAppJs, "text/javascript; charset=utf-8"); }, page);
  page.summary = "Feuille de style de la page d'accueil";
  r.Add("GET", "/assets/app.css", [](Request&) { return Asset(kAppCss, "text/css; charset=utf-8"); }, page);
}

}  // namespace crm::api
