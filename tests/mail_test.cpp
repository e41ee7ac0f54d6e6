// Mail against the real server and a real SMTP server (aiosmtpd, tests/stand_ins/smtp_server.py)
// on loopback: invitations and password resets mailed (French subjects decoded, both parts),
// STARTTLS with a throwaway certificate and AUTH, implicit TLS, a dead SMTP server (attempts,
// failed, kept, then retried and received exactly once), the outbox mode, task reminders once,
// tenant isolation of the outbox; and the whole path jfk.wav → transcript → report → DOCX → PDF
// → mail received with the PDF attached, whose text is read back by pdftotext.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <thread>

#include "common/ids.h"
#include "test_server.h"

namespace crm::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

std::string TempDir(const std::string& what) {
  std::string d = (fs::temp_directory_path() / ("crm-" + what + "-" + RandomHex(6))).string();
  fs::create_directories(d);
  return d;
}

// A throwaway certificate for 127.0.0.1 (openssl), valid one day.
struct Certificate {
  std::string dir, cert, key;
  Certificate() : dir(TempDir("cert")), cert(dir + "/cert.pem"), key(dir + "/key.pem") {
    std::string cmd =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
        "-addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " +
        key + " -out " + cert + " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) cert.clear();
  }
  ~Certificate() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

// The SMTP server: aiosmtpd writing what it accepts to a directory.
class SmtpServer {
 public:
  explicit SmtpServer(std::vector<std::string> flags = {}, int port = 0) : dir_(TempDir("smtp")) {
    std::string cmd = "exec /usr/bin/python3 " + SourceDir() +
                      "/tests/stand_ins/smtp_server.py --dir " + dir_ + " --port " +
                      std::to_string(port);
    for (auto& f : flags) cmd += " " + f;
    int out[2];
    if (pipe(out) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      close(out[0]);
      execl("/bin/sh", "sh", "-c", cmd.c_str(), nullptr);
      _exit(127);
    }
    close(out[1]);
    std::string line;
    char c;
    while (read(out[0], &c, 1) == 1 && c != '\n') line += c;
    close(out[0]);
    if (line.rfind("LISTENING ", 0) == 0) port_ = std::atoi(line.c_str() + 10);
  }
  ~SmtpServer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  int port() const { return port_; }
  const std::string& dir() const { return dir_; }

  // Every message received so far, read by Python's email package: envelope, headers decoded,
  // text and HTML parts, attachments (name, type, size, sha256, and the bytes in a file).
  std::vector<json> Messages() const {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir_, ec))
      if (e.path().extension() == ".eml") names.push_back(e.path().string());
    std::sort(names.begin(), names.end());
    std::vector<json> out;
    for (const auto& n : names) out.push_back(Parse(n));
    return out;
  }
  // Waits until `count` messages have arrived (or the deadline); returns them.
  std::vector<json> WaitFor(size_t count, int seconds = 30) const {
    auto deadline = Clock::now() + std::chrono::seconds(seconds);
    std::vector<json> m;
    while (Clock::now() < deadline) {
      m = Messages();
      if (m.size() >= count) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return m;
  }

 private:
  static json Parse(const std::string& eml) {
    std::string script = eml + ".py";
    {
      std::ofstream(script) << R"(import email, email.policy, hashlib, json, sys
path = sys.argv[1]
m = email.message_from_bytes(open(path, 'rb').read(), policy=email.policy.default)
meta = json.load(open(path[:-4] + '.json'))
out = {'envelope': meta, 'subject': str(m['subject']), 'from': str(m['from']),
       'to': str(m['to']), 'cc': str(m['cc'] or ''), 'message_id': str(m['message-id']),
       'reply_to': str(m['reply-to'] or ''), 'auto_submitted': str(m['auto-submitted'] or ''),
       'type': m.get_content_type(), 'defects': len(m.defects), 'attachments': [],
       'raw_subject': m.get('subject').__class__.__name__}
with open(path, 'rb') as f:
    raw = f.read()
out['raw_header_subject'] = [l.decode() for l in raw.split(b'\r\n\r\n')[0].split(b'\r\n')
                             if l.lower().startswith(b'subject:')]
b = m.get_body(('plain',)); out['text'] = b.get_content() if b else None
h = m.get_body(('html',)); out['html'] = h.get_content() if h else None
for i, a in enumerate(m.iter_attachments()):
    data = a.get_content()
    if isinstance(data, str): data = data.encode()
    p = '%s.att%d' % (path, i)
    open(p, 'wb').write(data)
    out['attachments'].append({'name': a.get_filename(), 'type': a.get_content_type(),
                               'size': len(data), 'sha256': hashlib.sha256(data).hexdigest(),
                               'path': p})
print(json.dumps(out))
)";
    }
    std::string cmd = "/usr/bin/python3 " + script + " " + eml;
    FILE* p = popen(cmd.c_str(), "r");
    std::string text;
    char buf[4096];
    size_t n;
    while (p && (n = fread(buf, 1, sizeof buf, p)) > 0) text.append(buf, n);
    if (p) pclose(p);
    return json::parse(text, nullptr, false);
  }

  std::string dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

json WaitMail(const TestServer& s, const std::vector<std::pair<std::string, std::string>>& h,
              const std::string& id, const std::function<bool(const json&)>& done,
              int seconds = 60) {
  json m;
  auto deadline = Clock::now() + std::chrono::seconds(seconds);
  while (Clock::now() < deadline) {
    m = s.Get("/api/mails/" + id, h).json();
    if (done(m)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return m;
}

bool Final(const json& m) {
  return m.value("status", "") == "sent" || m.value("status", "") == "failed" ||
         m.value("status", "") == "kept";
}

Env SmtpEnv(int port, Env more = {}) {
  Env e = {{"MAIL_MAILER", "smtp"},
           {"MAIL_HOST", "127.0.0.1"},
           {"MAIL_PORT", std::to_string(port)},
           {"MAIL_ENCRYPTION", "none"},
           {"MAIL_FROM_ADDRESS", "no-reply@cabinet-dupont.test"},
           {"MAIL_FROM_NAME", "Cabinet Dupont"},
           {"QUEUE_WORKERS", "1"}};
  for (auto& [k, v] : more) e[k] = v;
  return e;
}

std::string Invite(const TestServer& s, const TestFirm& f, const std::string& email,
                   std::string* link = nullptr) {
  auto inv =
      s.Call("POST", "/api/invitations", {{"email", email}, {"role", "member"}}, Bearer(f.api_key));
  EXPECT_EQ(inv.status, 201) << inv.body;
  if (link) *link = inv.json().value("invitation_link", "");
  return inv.json().value("mail_id", "");
}

TEST(Mail, InvitationAndPasswordResetReachTheSmtpServer) {
  SmtpServer smtp({"--auth", "crm:s3cret-smtp"});
  ASSERT_GT(smtp.port(), 0);
  TestServer s(SmtpEnv(smtp.port(), {{"MAIL_USERNAME", "crm"}, {"MAIL_PASSWORD", "s3cret-smtp"}}));
  ASSERT_TRUE(s.Start()) << s.log();
  TestFirm f = CreateFirm(s, "Cabinet Dupont");
  auto h = Bearer(f.api_key);

  std::string link;
  std::string id = Invite(s, f, "nouvelle.collaboratrice@exemple.fr", &link);
  ASSERT_FALSE(id.empty());
  json mail = WaitMail(s, h, id, Final);
  ASSERT_EQ(mail["status"], "sent") << mail.dump();
  EXPECT_EQ(mail["kind"], "invitation");
  EXPECT_EQ(mail["attempts"], 1);
  EXPECT_EQ(mail["to"], json::array({"nouvelle.collaboratrice@exemple.fr"}));
  EXPECT_TRUE(mail["sent_at"].is_string());
  EXPECT_TRUE(mail["last_error"].is_null());

  auto got = smtp.WaitFor(1);
  ASSERT_EQ(got.size(), 1u);
  const json& m = got[0];
  EXPECT_EQ(m["defects"], 0);
  EXPECT_EQ(m["envelope"]["rcpt_tos"], json::array({"nouvelle.collaboratrice@exemple.fr"}));
  EXPECT_EQ(m["envelope"]["mail_from"], "no-reply@cabinet-dupont.test");
  EXPECT_EQ(m["envelope"]["auth_user"], "crm");
  EXPECT_EQ(m["subject"], "Invitation à rejoindre Cabinet Dupont sur crm-ai");
  // On the wire the French subject is an RFC 2047 encoded-word, decoded above by Python.
  ASSERT_EQ(m["raw_header_subject"].size(), 1u);
  EXPECT_NE(m["raw_header_subject"][0].get<std::string>().find("=?UTF-8?B?"), std::string::npos);
  EXPECT_EQ(m["from"], "Cabinet Dupont <no-reply@cabinet-dupont.test>");
  EXPECT_EQ(m["auto_submitted"], "auto-generated");
  EXPECT_EQ(m["reply_to"], "");
  EXPECT_EQ(m["type"], "multipart/alternative");
  EXPECT_NE(m["text"].get<std::string>().find(link), std::string::npos) << m["text"];
  EXPECT_NE(m["html"].get<std::string>().find("<a href=\"" + link + "\""), std::string::npos)
      << m["html"];
  // The invitation from the mail works.
  std::string token = link.substr(link.find("token=") + 6);
  EXPECT_EQ(s.Call("POST", "/api/invitations/accept",
                   {{"token", token}, {"password", "un-mot-de-passe-solide"}})
                .status,
            201);

  // A password reset: mailed to the member, in the language chosen for them (English here);
  // the firm's admins see it was sent, not the link.
  json users = s.Get("/api/users", h).json();
  std::string member_id;
  for (auto& u : users["data"])
    if (u["email"] == f.member_email) member_id = u["id"];
  auto bad_language = s.Call("PATCH", "/api/users/" + member_id, {{"language", "de"}}, h);
  EXPECT_EQ(bad_language.status, 422);
  EXPECT_EQ(bad_language.json()["error"]["details"]["language"], "must_be_fr_en_or_null");
  auto english = s.Call("PATCH", "/api/users/" + member_id, {{"language", "en"}}, h);
  ASSERT_EQ(english.status, 200) << english.body;
  EXPECT_EQ(english.json()["language"], "en");
  auto reset = s.Call("POST", "/api/auth/password-reset", {{"email", f.member_email}});
  EXPECT_EQ(reset.status, 202);
  got = smtp.WaitFor(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1]["subject"], "Reset your crm-ai password");
  EXPECT_EQ(got[1]["envelope"]["rcpt_tos"], json::array({f.member_email}));
  std::string text = got[1]["text"];
  ASSERT_NE(text.find("/reset-password?token="), std::string::npos) << text;
  auto list = s.Get("/api/mails?status=sent", h).json();
  ASSERT_EQ(list["data"].size(), 2u) << list.dump();
  json reset_mail = s.Get("/api/mails/" + list["data"][0]["id"].get<std::string>(), h).json();
  EXPECT_EQ(reset_mail["kind"], "password_reset");
  EXPECT_EQ(reset_mail["text"].get<std::string>().find("token="), std::string::npos);
  EXPECT_EQ(reset_mail["html"].get<std::string>().find("token="), std::string::npos);
  // An unknown address gets the same answer and no mail.
  EXPECT_EQ(s.Call("POST", "/api/auth/password-reset", {{"email", "personne@exemple.fr"}}).status,
            202);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(smtp.Messages().size(), 2u);
  // The SMTP password is never written to the log.
  EXPECT_EQ(s.log().find("s3cret-smtp"), std::string::npos);
}

TEST(Mail, StartTlsWithAPrivateCaAndAuthThenImplicitTls) {
  Certificate cert;
  ASSERT_FALSE(cert.cert.empty()) << "openssl failed";
  {
    SmtpServer smtp({"--tls-cert", cert.cert, "--tls-key", cert.key, "--require-starttls", "--auth",
                     "crm:tls-secret"});
    ASSERT_GT(smtp.port(), 0);
    TestServer s(SmtpEnv(smtp.port(), {{"MAIL_ENCRYPTION", "tls"},
                                       {"MAIL_CA_FILE", cert.cert},
                                       {"MAIL_USERNAME", "crm"},
                                       {"MAIL_PASSWORD", "tls-secret"}}));
    ASSERT_TRUE(s.Start()) << s.log();
    TestFirm f = CreateFirm(s, "Cabinet TLS");
    std::string id = Invite(s, f, "chiffre@exemple.fr");
    json mail = WaitMail(s, Bearer(f.api_key), id, Final);
    ASSERT_EQ(mail["status"], "sent") << mail.dump();
    auto got = smtp.WaitFor(1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0]["envelope"]["tls"], true);
    EXPECT_EQ(got[0]["envelope"]["auth_user"], "crm");
  }
  {
    // Without the private CA the certificate is refused: retried, then failed, nothing sent.
    SmtpServer smtp({"--tls-cert", cert.cert, "--tls-key", cert.key, "--require-starttls"});
    TestServer s(
        SmtpEnv(smtp.port(),
                {{"MAIL_ENCRYPTION", "tls"}, {"MAIL_TRIES", "2"}, {"MAIL_RETRY_SECONDS", "1"}}));
    ASSERT_TRUE(s.Start()) << s.log();
    TestFirm f = CreateFirm(s, "Cabinet Sans CA");
    std::string id = Invite(s, f, "refuse@exemple.fr");
    json mail = WaitMail(s, Bearer(f.api_key), id, Final);
    EXPECT_EQ(mail["status"], "failed") << mail.dump();
    EXPECT_EQ(mail["attempts"], 2);
    EXPECT_NE(mail["last_error"].get<std::string>().find("SMTP 127.0.0.1"), std::string::npos);
    EXPECT_TRUE(smtp.Messages().empty());
  }
  {
    // A wrong password: the server's 535 fails the mail at once; the password stays out.
    SmtpServer smtp({"--auth", "crm:the-right-one"});
    TestServer s(SmtpEnv(
        smtp.port(),
        {{"MAIL_USERNAME", "crm"}, {"MAIL_PASSWORD", "the-wrong-one"}, {"MAIL_TRIES", "4"}}));
    ASSERT_TRUE(s.Start()) << s.log();
    TestFirm f = CreateFirm(s, "Cabinet Mauvais");
    std::string id = Invite(s, f, "refuse@exemple.fr");
    json mail = WaitMail(s, Bearer(f.api_key), id, Final);
    EXPECT_EQ(mail["status"], "failed") << mail.dump();
    EXPECT_EQ(mail["attempts"], 1);
    EXPECT_EQ(mail.dump().find("the-wrong-one"), std::string::npos);
    EXPECT_EQ(s.log().find("the-wrong-one"), std::string::npos);
    EXPECT_TRUE(smtp.Messages().empty());
  }
  {
    SmtpServer smtp({"--tls-cert", cert.cert, "--tls-key", cert.key, "--implicit-tls"});
    TestServer s(SmtpEnv(smtp.port(), {{"MAIL_ENCRYPTION", "ssl"}, {"MAIL_CA_FILE", cert.cert}}));
    ASSERT_TRUE(s.Start()) << s.log();
    TestFirm f = CreateFirm(s, "Cabinet SMTPS");
    std::string id = Invite(s, f, "smtps@exemple.fr");
    json mail = WaitMail(s, Bearer(f.api_key), id, Final);
    ASSERT_EQ(mail["status"], "sent") << mail.dump();
    auto got = smtp.WaitFor(1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0]["envelope"]["tls"], true);
  }
}

TEST(Mail, ADeadSmtpServerKeepsTheMailUntilARetryDeliversItOnce) {
  int port = FreePort();
  TestServer s(SmtpEnv(port, {{"MAIL_TRIES", "3"}, {"MAIL_RETRY_SECONDS", "1"}}));
  ASSERT_TRUE(s.Start()) << s.log();
  TestFirm f = CreateFirm(s, "Cabinet Panne");
  auto h = Bearer(f.api_key);
  std::string id = Invite(s, f, "attente@exemple.fr");
  ASSERT_FALSE(id.empty());
  // Attempts grow while nothing listens; last_error says why.
  json mail = WaitMail(s, h, id, [](const json& m) { return m.value("attempts", 0) >= 2; });
  EXPECT_GE(mail["attempts"], 2) << mail.dump();
  EXPECT_NE(mail["status"], "sent");
  EXPECT_TRUE(mail["last_error"].is_string()) << mail.dump();
  mail = WaitMail(s, h, id, Final);
  ASSERT_EQ(mail["status"], "failed") << mail.dump();
  EXPECT_EQ(mail["attempts"], 3);
  EXPECT_EQ(mail["max_attempts"], 3);
  EXPECT_NE(mail["last_error"].get<std::string>().find(std::to_string(port)), std::string::npos);
  // Kept, with its bodies, in the outbox's failed list.
  auto failed = s.Get("/api/mails?status=failed", h).json();
  ASSERT_EQ(failed["data"].size(), 1u);
  EXPECT_FALSE(s.Get("/api/mails/" + id, h).json()["text"].get<std::string>().empty());

  // The server comes up; a retry delivers the mail, once.
  SmtpServer smtp({}, port);
  ASSERT_EQ(smtp.port(), port);
  auto retry = s.Call("POST", "/api/mails/" + id + "/retry", json::object(), h);
  ASSERT_EQ(retry.status, 202) << retry.body;
  EXPECT_EQ(retry.json()["status"], "queued");
  EXPECT_EQ(retry.json()["attempts"], 0);
  mail = WaitMail(s, h, id, Final);
  ASSERT_EQ(mail["status"], "sent") << mail.dump();
  EXPECT_EQ(mail["attempts"], 1);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  auto got = smtp.Messages();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["envelope"]["rcpt_tos"], json::array({"attente@exemple.fr"}));
  // A sent mail is not retried again.
  auto again = s.Call("POST", "/api/mails/" + id + "/retry", json::object(), h);
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(again.json()["error"]["code"], "mail_not_retryable");
}

// A worker that died while sending leaves the mail 'sending': once that attempt's time is up,
// the tick hands it to another attempt (delivery is at least once).
TEST(Mail, AMailLeftSendingByADeadWorkerIsSentAgain) {
  SmtpServer smtp;
  TestServer s(SmtpEnv(smtp.port(), {{"MAIL_REMINDER_INTERVAL", "1"}}));
  ASSERT_TRUE(s.Start()) << s.log();
  TestFirm f = CreateFirm(s, "Cabinet Reprise");
  auto h = Bearer(f.api_key);
  std::string id = Invite(s, f, "reprise@exemple.fr");
  ASSERT_EQ(WaitMail(s, h, id, Final)["status"], "sent");
  ASSERT_EQ(smtp.WaitFor(1).size(), 1u);
  std::string sql =
      "UPDATE mail_outbox SET status = 'sending', sent_at = NULL, "
      "next_attempt_at = 0 WHERE id = '" +
      id + "'";
  ASSERT_EQ(std::system(("sqlite3 " + s.data_dir() + "/crm-ai.sqlite3 \"" + sql + "\"").c_str()),
            0);
  json mail = WaitMail(
      s, h, id, [](const json& m) { return m["status"] == "sent"; }, 20);
  ASSERT_EQ(mail["status"], "sent") << mail.dump();
  EXPECT_EQ(mail["attempts"], 2);
  EXPECT_EQ(smtp.WaitFor(2).size(), 2u);
}

// MAIL_MAILER=outbox (the default): mails are kept, listed and readable; reminders once per
// task; each firm sees its own outbox only; the platform admin sees all.
TEST(Mail, OutboxModeKeepsMailsRemindersOnceAndFirmsSeeTheirOwn) {
  TestServer s(Env{{"QUEUE_WORKERS", "1"}, {"MAIL_REMINDER_INTERVAL", "1"}});
  ASSERT_TRUE(s.Start()) << s.log();
  TestFirm a = CreateFirm(s, "Cabinet Alpha");
  TestFirm b = CreateFirm(s, "Cabinet Beta");
  auto ha = Bearer(a.api_key), hb = Bearer(b.api_key);
  std::string id = Invite(s, a, "invitee@exemple.fr");
  json mail = WaitMail(s, ha, id, Final);
  ASSERT_EQ(mail["status"], "kept") << mail.dump();
  EXPECT_EQ(mail["attempts"], 0);
  EXPECT_EQ(mail["attachments"], json::array());
  // The invitation's link is for owners (who may invite any role) and the platform admin; an
  // admin reads a notice instead.
  EXPECT_EQ(mail["redacted"], true);
  EXPECT_EQ(mail["text"].get<std::string>().find("token="), std::string::npos);
  auto owner = Login(s, a.owner_email, a.password);
  ASSERT_TRUE(owner);
  json full = s.Get("/api/mails/" + id, owner->Headers()).json();
  EXPECT_FALSE(full.contains("redacted"));
  EXPECT_NE(full["html"].get<std::string>().find("Cabinet Alpha"), std::string::npos);
  EXPECT_NE(full["text"].get<std::string>().find("/invitation?token="), std::string::npos);
  auto kept = s.Get("/api/mails?status=kept", ha).json();
  ASSERT_EQ(kept["data"].size(), 1u);
  EXPECT_FALSE(kept["data"][0].contains("html"));  // bodies only on GET by id
  EXPECT_TRUE(kept.contains("next_cursor"));
  auto bad = s.Get("/api/mails?status=lost", ha);
  EXPECT_EQ(bad.status, 422);
  EXPECT_EQ(bad.json()["error"]["details"]["status"], "invalid");
  EXPECT_EQ(s.Get("/api/mails?limit=0", ha).status, 422);
  // Kept mails are not sent again by a retry in outbox mode.
  EXPECT_EQ(s.Call("POST", "/api/mails/" + id + "/retry", json::object(), ha).status, 409);

  // Firm B: 404 on every route for A's mail, and an empty outbox; members are refused.
  EXPECT_EQ(s.Get("/api/mails/" + id, hb).status, 404);
  EXPECT_EQ(s.Call("POST", "/api/mails/" + id + "/retry", json::object(), hb).status, 404);
  EXPECT_EQ(s.Get("/api/mails/" + id + "/attachments/" + NewId(), hb).status, 404);
  EXPECT_EQ(s.Get("/api/mails", hb).json()["data"].size(), 0u);
  EXPECT_EQ(s.Get("/api/mails", Bearer(a.member_api_key)).status, 403);
  EXPECT_EQ(s.Get("/api/admin/mails", ha).status, 403);
  std::string b_mail = Invite(s, b, "autre@exemple.fr");
  WaitMail(s, hb, b_mail, Final);

  // The platform admin sees every firm's mails.
  ASSERT_EQ(s.Run({"user", "create", "--platform-admin", "--email", "root@plateforme.fr",
                   "--password-stdin"},
                  "motdepasse-solide-1\n")
                .exit_code,
            0);
  auto root = Login(s, "root@plateforme.fr", "motdepasse-solide-1");
  ASSERT_TRUE(root);
  auto all = s.Get("/api/admin/mails", root->Headers()).json();
  ASSERT_GE(all["data"].size(), 2u) << all.dump();
  std::set<std::string> firms;
  for (auto& m : all["data"]) firms.insert(m["firm_id"].get<std::string>());
  EXPECT_TRUE(firms.count(a.id) && firms.count(b.id));
  json seen = s.Get("/api/admin/mails/" + id, root->Headers()).json();
  EXPECT_EQ(seen["firm_id"], a.id);
  EXPECT_NE(seen["text"].get<std::string>().find("/invitation?token="), std::string::npos);

  // Task reminders: the member's task due today is mailed once; next week's is not.
  auto users = s.Get("/api/users", ha).json();
  std::string member_id;
  for (auto& u : users["data"])
    if (u["email"] == a.member_email) member_id = u["id"];
  ASSERT_FALSE(member_id.empty());
  std::string today = [] {
    std::time_t t = std::time(nullptr);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y-%m-%d", std::gmtime(&t));
    return std::string(buf);
  }();
  auto task = s.Call(
      "POST", "/api/tasks",
      {{"title", "Relancer le notaire"}, {"due_date", today}, {"assignee_user_id", member_id}}, ha);
  ASSERT_EQ(task.status, 201) << task.body;
  auto later = s.Call(
      "POST", "/api/tasks",
      {{"title", "Plus tard"}, {"due_date", "2099-01-01"}, {"assignee_user_id", member_id}}, ha);
  ASSERT_EQ(later.status, 201) << later.body;
  auto reminders = [&] {
    std::vector<json> out;
    json page = s.Get("/api/mails?limit=200", ha).json();
    for (auto& m : page["data"])
      if (m["kind"] == "task_reminder") out.push_back(m);
    return out;
  };
  auto deadline = Clock::now() + std::chrono::seconds(20);
  while (reminders().empty() && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto r = reminders();
  ASSERT_EQ(r.size(), 1u) << s.Get("/api/jobs?limit=200", root->Headers()).body << s.log();
  EXPECT_EQ(r[0]["to"], json::array({a.member_email}));
  EXPECT_EQ(r[0]["subject"], "Tâche à échéance : Relancer le notaire");
  std::this_thread::sleep_for(std::chrono::seconds(3));  // three more ticks
  EXPECT_EQ(reminders().size(), 1u);
}

// The issue's end-to-end path: jfk.wav → transcript (the OpenAI-compatible stand-in) → report →
// DOCX → PDF → POST /api/reports/{id}/mail → received by the SMTP server with the PDF attached,
// the PDF's text read back by pdftotext. Then the client's deletion removes the attachment's file.
TEST(Mail, EndToEndJfkRecordingToAMailedPdfReport) {
  StandIn openai({"--words", "'ask not what your country can do for you'"});
  ASSERT_FALSE(openai.url().empty());
  SmtpServer smtp;
  ASSERT_GT(smtp.port(), 0);
  Env env = SmtpEnv(smtp.port(), {{"TRANSCRIPTION_MODE", "openai"},
                                  {"OPENAI_BASE_URL", openai.url()},
                                  {"OPENAI_API_KEY", "sk-stand-in"},
                                  {"VAD", "energy"},
                                  {"DIARIZATION", "off"}});
  TestServer s(env);
  ASSERT_TRUE(s.Start()) << s.log();
  TestFirm f = CreateFirm(s, "Cabinet Dupont");
  auto h = Bearer(f.api_key);
  std::string client = s.Call("POST", "/api/clients", {{"name", "Hélène Lefèvre"}}, h).json()["id"];
  std::string meeting = s.Call("POST", "/api/meetings",
                               {{"client_id", client},
                                {"title", "Discours"},
                                {"starts_at", "2026-12-01T09:00:00Z"},
                                {"participants", json::array({{{"name", "Maître Dupont"}}})}},
                               h)
                            .json()["id"];
  auto up =
      Send(s.port(), {"POST",
                      "/api/meetings/" + meeting + "/recordings?consent=true",
                      ReadFile(SourceDir() + "/tests/data/asr/jfk.wav"),
                      {{"Authorization", "Bearer " + f.api_key}, {"Content-Type", "audio/wav"}}});
  ASSERT_EQ(up.status, 201) << up.body;
  std::string recording = up.json()["id"];
  json rec;
  auto deadline = Clock::now() + std::chrono::seconds(120);
  while (Clock::now() < deadline) {
    rec = s.Get("/api/recordings/" + recording, h).json();
    if (rec["status"] == "done" || rec["status"] == "failed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_EQ(rec["status"], "done") << rec.dump();
  std::string transcript = s.Get("/api/recordings/" + recording + "/transcript", h).body;
  ASSERT_NE(transcript.find("ask not what your country"), std::string::npos) << transcript;

  auto req = s.Call("POST", "/api/recordings/" + recording + "/reports", json::object(), h);
  ASSERT_EQ(req.status, 202) << req.body;
  std::string report = req.json()["id"];
  json rep;
  for (int i = 0; i < 400; ++i) {
    rep = s.Get("/api/reports/" + report, h).json();
    if (rep["status"] != "generating") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(rep["status"], "draft") << rep.dump();

  // Only a reviewed report is mailed; bodies are checked field by field.
  json body = {{"to", {"helene.lefevre@exemple.fr"}},
               {"cc", {"associe@cabinet-dupont.test"}},
               {"message", "Voici le compte rendu de notre rendez-vous."}};
  auto early = s.Call("POST", "/api/reports/" + report + "/mail", body, h);
  EXPECT_EQ(early.status, 409) << early.body;
  EXPECT_EQ(early.json()["error"]["code"], "report_not_reviewed");
  ASSERT_EQ(s.Call("POST", "/api/reports/" + report + "/review", json::object(), h).status, 200);
  auto invalid = s.Call("POST", "/api/reports/" + report + "/mail",
                        {{"to", {"pas-une-adresse"}},
                         {"cc", "x"},
                         {"subject", "a\r\nBcc: x@y.fr"},
                         {"language", "de"},
                         {"bcc", {"x@y.fr"}}},
                        h);
  ASSERT_EQ(invalid.status, 422) << invalid.body;
  json details = invalid.json()["error"]["details"];
  for (const char* field : {"to", "cc", "subject", "language", "bcc"})
    EXPECT_TRUE(details.contains(field)) << field << " " << details.dump();
  EXPECT_EQ(s.Call("POST", "/api/reports/" + report + "/mail", json::object(), h).status, 422);
  TestFirm other = CreateFirm(s, "Cabinet Autre");
  EXPECT_EQ(s.Call("POST", "/api/reports/" + report + "/mail", body, Bearer(other.api_key)).status,
            404);
  EXPECT_EQ(s.Get("/api/reports/" + report + "/mails", Bearer(other.api_key)).status, 404);

  // DOCX of the reviewed report (the same template the PDF goes through).
  auto docx = s.Call("POST", "/api/reports/" + report + "/exports", {{"format", "docx"}}, h);
  ASSERT_EQ(docx.status, 202) << docx.body;
  json exp;
  for (int i = 0; i < 600; ++i) {
    exp = s.Get("/api/exports/" + docx.json()["id"].get<std::string>(), h).json();
    if (exp["status"] != "queued") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(exp["status"], "done") << exp.dump();
  std::string docx_path = s.data_dir() + "/e2e.docx";
  { std::ofstream(docx_path, std::ios::binary) << s.Get(exp["download_url"], h).body; }
  std::string xml_path = docx_path + ".xml";
  ASSERT_EQ(std::system(("unzip -p " + docx_path + " word/document.xml > " + xml_path).c_str()), 0);
  EXPECT_NE(ReadFile(xml_path).find("ask not what your country"), std::string::npos);

  // The mail, sent by the owner from the web app: 202 at once, the PDF made by the export job,
  // then sent; the client's answer goes to the owner.
  auto owner = Login(s, f.owner_email, f.password);
  ASSERT_TRUE(owner);
  auto sent = s.Call("POST", "/api/reports/" + report + "/mail", body, owner->Headers());
  ASSERT_EQ(sent.status, 202) << sent.body;
  std::string id = sent.json()["id"];
  EXPECT_EQ(sent.json()["kind"], "report");
  EXPECT_EQ(sent.json()["report_id"], report);
  EXPECT_EQ(sent.json()["status"], "queued");
  EXPECT_EQ(sent.header("location"), "/api/mails/" + id);
  json mail = WaitMail(s, h, id, Final, 120);
  ASSERT_EQ(mail["status"], "sent") << mail.dump() << s.log();
  ASSERT_EQ(mail["attachments"].size(), 1u);
  EXPECT_EQ(mail["attachments"][0]["content_type"], "application/pdf");
  auto listed = s.Get("/api/reports/" + report + "/mails", h).json();
  ASSERT_EQ(listed["data"].size(), 1u);
  EXPECT_EQ(listed["data"][0]["id"], id);
  EXPECT_EQ(listed["data"][0]["attachments"], mail["attachments"]);
  EXPECT_FALSE(listed["data"][0].contains("html"));

  auto got = smtp.WaitFor(1);
  ASSERT_EQ(got.size(), 1u);
  const json& m = got[0];
  EXPECT_EQ(m["defects"], 0);
  EXPECT_EQ(m["envelope"]["rcpt_tos"],
            json::array({"helene.lefevre@exemple.fr", "associe@cabinet-dupont.test"}));
  EXPECT_EQ(m["to"], "helene.lefevre@exemple.fr");
  EXPECT_EQ(m["cc"], "associe@cabinet-dupont.test");
  EXPECT_EQ(m["subject"], "Compte rendu du 1er décembre 2026 — Cabinet Dupont");
  EXPECT_EQ(m["reply_to"], f.owner_email);
  EXPECT_EQ(m["auto_submitted"], "");  // a person's mail, unlike invitations and reminders
  EXPECT_EQ(m["type"], "multipart/mixed");
  EXPECT_NE(m["text"].get<std::string>().find("Voici le compte rendu de notre rendez-vous."),
            std::string::npos);
  EXPECT_NE(m["html"].get<std::string>().find("Bonjour Hélène Lefèvre"), std::string::npos);
  ASSERT_EQ(m["attachments"].size(), 1u);
  const json& att = m["attachments"][0];
  EXPECT_EQ(att["type"], "application/pdf");
  EXPECT_EQ(att["name"], mail["attachments"][0]["file_name"]);
  EXPECT_EQ(att["size"], mail["attachments"][0]["size"]);
  // The bytes received are the outbox's attachment, which is the export's PDF.
  auto download = s.Get(
      "/api/mails/" + id + "/attachments/" + mail["attachments"][0]["id"].get<std::string>(), h);
  ASSERT_EQ(download.status, 200);
  EXPECT_EQ(download.header("content-type"), "application/pdf");
  EXPECT_EQ(Sha256Hex(download.body), att["sha256"]);
  EXPECT_EQ(download.body.rfind("%PDF-", 0), 0u);
  std::string pdf = att["path"];
  ASSERT_EQ(std::system(("pdftotext -enc UTF-8 " + pdf + " " + pdf + ".txt").c_str()), 0);
  std::string raw = ReadFile(pdf + ".txt"), text;
  for (char c : raw)
    if (!std::isspace(static_cast<unsigned char>(c)) || (!text.empty() && text.back() != ' '))
      text += std::isspace(static_cast<unsigned char>(c)) ? ' ' : c;
  EXPECT_NE(text.find("ask not what your country"), std::string::npos) << text;
  EXPECT_NE(text.find("Hélène Lefèvre"), std::string::npos) << text;

  // Deleting the client deletes its mails and the attachment's file, and its documents' files
  // (the DOCX and PDF exports).
  std::vector<std::string> files = {s.data_dir() + "/mail/" + f.id + "/" + id + "/" +
                                    mail["attachments"][0]["id"].get<std::string>()};
  json docs = s.Get("/api/clients/" + client + "/documents", h).json();
  ASSERT_EQ(docs["data"].size(), 2u) << docs.dump();
  // Each document's files: documents/<firm>/<document>/<upload>.
  for (auto& d : docs["data"]) {
    std::string dir = s.data_dir() + "/documents/" + f.id + "/" + d["id"].get<std::string>();
    size_t before = files.size();
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) files.push_back(e.path().string());
    EXPECT_GT(files.size(), before) << dir;
  }
  for (auto& file : files) ASSERT_TRUE(fs::exists(file)) << file;
  auto del = s.Call("DELETE", "/api/clients/" + client, nullptr, h);
  ASSERT_EQ(del.status, 204) << del.body;
  for (auto& file : files) EXPECT_FALSE(fs::exists(file)) << file;
  EXPECT_EQ(s.Get("/api/mails/" + id, h).status, 404);
}

}  // namespace
}  // namespace crm::testing
