// MIME building, header encoding, header injection, addresses and the mails' templates. The
// messages are read back by Python's email package (an independent parser), not by our code.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "common/ids.h"
#include "common/text.h"
#include "mail/mime.h"
#include "mail/templates.h"

namespace crm::mail {
namespace {

using nlohmann::json;

// Python's email parser on `message`: subject, from, to, cc, the text and HTML parts and each
// attachment (name, type, SHA-256 and size of the decoded bytes).
json ParseWithPython(const std::string& message) {
  std::string dir = std::filesystem::temp_directory_path() / ("crm-mail-" + RandomHex(6));
  std::filesystem::create_directories(dir);
  std::string path = dir + "/m.eml";
  { std::ofstream(path, std::ios::binary) << message; }
  std::string script = dir + "/p.py";
  {
    std::ofstream(script) << R"(import email, email.policy, hashlib, json, sys
m = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=email.policy.default)
out = {'subject': str(m['subject']), 'from': str(m['from']), 'to': str(m['to']),
       'cc': str(m['cc'] or ''), 'type': m.get_content_type(), 'defects': len(m.defects),
       'attachments': []}
body = m.get_body(('plain',))
out['text'] = body.get_content() if body else None
html = m.get_body(('html',))
out['html'] = html.get_content() if html else None
for a in m.iter_attachments():
    data = a.get_content()
    if isinstance(data, str): data = data.encode()
    out['attachments'].append({'name': a.get_filename(), 'type': a.get_content_type(),
                               'sha256': hashlib.sha256(data).hexdigest(), 'size': len(data)})
print(json.dumps(out))
)";
  }
  std::string cmd = "/usr/bin/python3 " + script + " " + path;
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while (p && (n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  if (p) pclose(p);
  std::filesystem::remove_all(dir);
  return json::parse(out, nullptr, false);
}

Message Sample() {
  Message m;
  m.from_name = "Cabinet Müller & Associés";
  m.from_address = "no-reply@cabinet.example";
  m.to = {"helene.lefevre@exemple.fr"};
  m.cc = {"associe@cabinet.example"};
  m.subject =
      "Compte rendu du 1er décembre 2026 — Succession Lefèvre, pièces à fournir avant "
      "le 15 décembre";
  m.text = "Bonjour Hélène,\n\nVeuillez trouver ci-joint le compte rendu.\n";
  m.html = "<p>Bonjour Hélène,</p><p>Veuillez trouver ci-joint le compte rendu.</p>";
  m.message_id = "<abc@cabinet.example>";
  return m;
}

TEST(Mime, AFrenchMessageWithAnAttachmentReadsBackExactly) {
  Message m = Sample();
  std::string pdf = "%PDF-1.4\n";
  for (int i = 0; i < 5000; ++i) pdf += static_cast<char>(i * 37 % 256);  // every byte value
  m.attachments.push_back({"Compte rendu — Lefèvre.pdf", "application/pdf", pdf});
  auto built = BuildMessage(m);
  ASSERT_TRUE(built.ok()) << built.error().message;
  const std::string& raw = *built;
  // CRLF everywhere, no bare LF or CR, no line over 998 characters, headers ASCII only.
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\n') ASSERT_TRUE(i > 0 && raw[i - 1] == '\r') << "bare LF at " << i;
    if (raw[i] == '\r') ASSERT_TRUE(i + 1 < raw.size() && raw[i + 1] == '\n') << "bare CR at " << i;
  }
  size_t line_start = 0;
  for (size_t i = 0; i < raw.size(); ++i)
    if (raw[i] == '\n') {
      EXPECT_LE(i - line_start, 999u);
      line_start = i + 1;
    }
  std::string headers = raw.substr(0, raw.find("\r\n\r\n"));
  for (unsigned char c : headers) ASSERT_LT(c, 0x80) << headers;
  EXPECT_NE(headers.find("multipart/mixed"), std::string::npos);

  json parsed = ParseWithPython(raw);
  ASSERT_TRUE(parsed.is_object()) << "python could not parse";
  EXPECT_EQ(parsed["defects"], 0);
  EXPECT_EQ(parsed["subject"], m.subject);
  EXPECT_EQ(parsed["from"], "Cabinet Müller & Associés <no-reply@cabinet.example>");
  EXPECT_EQ(parsed["to"], "helene.lefevre@exemple.fr");
  EXPECT_EQ(parsed["cc"], "associe@cabinet.example");
  EXPECT_EQ(parsed["text"], m.text);
  EXPECT_EQ(parsed["html"], m.html);
  ASSERT_EQ(parsed["attachments"].size(), 1u);
  EXPECT_EQ(parsed["attachments"][0]["name"], "Compte rendu — Lefèvre.pdf");
  EXPECT_EQ(parsed["attachments"][0]["type"], "application/pdf");
  EXPECT_EQ(parsed["attachments"][0]["size"], pdf.size());
  EXPECT_EQ(parsed["attachments"][0]["sha256"], Sha256Hex(pdf));
}

TEST(Mime, ReplyToAndAutoSubmittedWhenAsked) {
  Message m = Sample();
  EXPECT_EQ(BuildMessage(m)->find("Reply-To:"), std::string::npos);
  EXPECT_EQ(BuildMessage(m)->find("Auto-Submitted:"), std::string::npos);
  m.reply_to = "maitre.dupont@cabinet.example";
  m.auto_generated = true;
  auto built = BuildMessage(m);
  ASSERT_TRUE(built.ok());
  EXPECT_NE(built->find("\r\nReply-To: maitre.dupont@cabinet.example\r\n"), std::string::npos);
  EXPECT_NE(built->find("\r\nAuto-Submitted: auto-generated\r\n"), std::string::npos);
  m.reply_to = "x@y.fr\r\nBcc: victim@example.com";
  EXPECT_FALSE(BuildMessage(m).ok());
}

TEST(Mime, WithoutAttachmentsTheMessageIsMultipartAlternative) {
  auto built = BuildMessage(Sample());
  ASSERT_TRUE(built.ok());
  json parsed = ParseWithPython(*built);
  EXPECT_EQ(parsed["type"], "multipart/alternative");
  EXPECT_EQ(parsed["attachments"].size(), 0u);
  EXPECT_EQ(parsed["text"], Sample().text);
}

TEST(Mime, EncodedWordsStayShortAndNeverSplitACharacter) {
  std::string subject;
  for (int i = 0; i < 30; ++i) subject += "éàü€😀 ";
  std::string enc = EncodeHeaderText(subject);
  for (const auto& line : Split(enc, '\n')) {
    std::string w = Trim(line);
    ASSERT_LE(w.size(), 75u) << w;
    ASSERT_EQ(w.rfind("=?UTF-8?B?", 0), 0u) << w;
    // Each word alone is valid UTF-8 (RFC 2047 §5: no character split across words).
    EXPECT_TRUE(IsValidUtf8(DecodeHeaderText(w))) << w;
  }
  EXPECT_EQ(DecodeHeaderText(enc), subject);
  EXPECT_EQ(EncodeHeaderText("Plain ASCII subject"), "Plain ASCII subject");
  // ASCII that looks like an encoded word is encoded so it reads back literally.
  EXPECT_EQ(DecodeHeaderText(EncodeHeaderText("=?UTF-8?B?eA==?=")), "=?UTF-8?B?eA==?=");
}

TEST(Mime, LineBreaksInAnyHeaderValueAreRefused) {
  const std::vector<std::string> evils = {"Hello\r\nBcc: victim@example.com", "Hello\nBcc: x@y.fr",
                                          "Hello\rX-Injected: 1", std::string("nul\0byte", 8)};
  for (const std::string& evil : evils) {
    Message m = Sample();
    m.subject = evil;
    auto built = BuildMessage(m);
    EXPECT_FALSE(built.ok()) << evil;
    if (!built.ok()) {
      EXPECT_EQ(built.error().code, ErrorCode::kInvalidArgument);
    }
  }
  Message to = Sample();
  to.to = {"a@exemple.fr\r\nBcc: victim@example.com"};
  EXPECT_FALSE(BuildMessage(to).ok());
  Message from = Sample();
  from.from_name = "crm\r\nBcc: victim@example.com";
  EXPECT_FALSE(BuildMessage(from).ok());
  Message file = Sample();
  file.attachments.push_back({"a\r\nContent-Type: text/html", "application/pdf", "x"});
  EXPECT_FALSE(BuildMessage(file).ok());
  auto st = CheckHeaderValue("x\r\ny", "subject");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().details["subject"], "control_character");
}

TEST(Mime, AddressesAreChecked) {
  EXPECT_EQ(*CheckAddress("  Helene.Lefevre+cr@Exemple.FR ", "to"), "Helene.Lefevre+cr@exemple.fr");
  EXPECT_TRUE(CheckAddress("a@b-c.example.org", "to").ok());
  for (const char* bad :
       {"", "plain", "@exemple.fr", "a@", "a@b", "a@@b.fr", "a b@c.fr", "a@b..fr", ".a@b.fr",
        "a.@b.fr", "a@-b.fr", "a@b.fr>", "<a@b.fr>", "a@b.fr,c@d.fr", "é@b.fr", "a@b.fr\r\n"}) {
    auto r = CheckAddress(bad, "cc");
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.error().details["cc"], "invalid_email") << bad;
    }
  }
  EXPECT_FALSE(CheckAddress(std::string(250, 'a') + "@b.fr", "to").ok());
}

TEST(Templates, FrenchByDefaultEnglishOnRequestAndEveryValueEscaped) {
  ReportFacts f;
  f.firm_name = "Cabinet <Dupont> & Fils";
  f.client_name = "Hélène \"Léna\" Lefèvre";
  f.report_title = "Succession <script>alert(1)</script>";
  f.meeting_date = "2026-12-01T09:00:00Z";
  f.sender_name = "Maître Dupont";
  f.message = "Voici le compte rendu.\n<b>Merci</b> !";
  Rendered fr = ReportMail(PickLanguage(""), f);
  EXPECT_EQ(fr.subject, "Compte rendu du 1er décembre 2026 — Cabinet <Dupont> & Fils");
  EXPECT_EQ(fr.html.find("<script>"), std::string::npos) << fr.html;
  EXPECT_EQ(fr.html.find("<b>Merci"), std::string::npos);
  EXPECT_NE(fr.html.find("&lt;script&gt;"), std::string::npos);
  EXPECT_NE(fr.html.find("Cabinet &lt;Dupont&gt; &amp; Fils"), std::string::npos);
  EXPECT_NE(fr.html.find("Hélène &quot;Léna&quot; Lefèvre"), std::string::npos);
  EXPECT_NE(fr.html.find("Voici le compte rendu.<br>&lt;b&gt;Merci"), std::string::npos);
  EXPECT_NE(fr.html.find("lang=\"fr\""), std::string::npos);
  EXPECT_NE(fr.text.find("Voici le compte rendu.\n<b>Merci</b> !"), std::string::npos);
  EXPECT_NE(fr.text.find("Veuillez trouver ci-joint le compte rendu"), std::string::npos);

  Rendered en = ReportMail(PickLanguage("en-GB"), f);
  EXPECT_EQ(en.subject, "Meeting report — December 1, 2026 — Cabinet <Dupont> & Fils");
  EXPECT_NE(en.text.find("Please find attached"), std::string::npos);
  EXPECT_NE(en.html.find("lang=\"en\""), std::string::npos);

  f.subject = "Votre compte rendu\r\nBcc: x@y.fr";
  EXPECT_EQ(ReportMail("fr", f).subject, "Votre compte rendu  Bcc: x@y.fr");  // one line

  InvitationFacts inv{"Cabinet Dupont", "Maître Dupont", "admin",
                      "http://localhost:8000/invitation?token=abc&x=<1>", 7};
  Rendered i = InvitationMail("fr", inv);
  EXPECT_EQ(i.subject, "Invitation à rejoindre Cabinet Dupont sur crm-ai");
  EXPECT_NE(i.text.find("http://localhost:8000/invitation?token=abc&x=<1>"), std::string::npos);
  EXPECT_NE(i.html.find("href=\"http://localhost:8000/invitation?token=abc&amp;x=&lt;1&gt;\""),
            std::string::npos)
      << i.html;
  EXPECT_NE(i.text.find("administrateur"), std::string::npos);
  EXPECT_EQ(InvitationMail("en", inv).subject, "Invitation to join Cabinet Dupont on crm-ai");

  Rendered r = PasswordResetMail("fr", {"Anne", "http://x/reset-password?token=t", 60});
  EXPECT_EQ(r.subject, "Réinitialisation de votre mot de passe crm-ai");
  EXPECT_NE(r.text.find("60 minutes"), std::string::npos);

  ReminderFacts t{"Anne",       "Cabinet Dupont", "Envoyer le projet <de> lettre",
                  "2026-12-15", "Hélène Lefèvre", "http://x/tasks/1",
                  true};
  Rendered late = TaskReminderMail("fr", t);
  EXPECT_EQ(late.subject, "Tâche en retard : Envoyer le projet <de> lettre");
  EXPECT_NE(late.html.find("15 décembre 2026"), std::string::npos);
  EXPECT_NE(late.html.find("projet &lt;de&gt; lettre"), std::string::npos);
  t.overdue = false;
  EXPECT_EQ(TaskReminderMail("en", t).subject, "Task due soon: Envoyer le projet <de> lettre");
}

TEST(Templates, RenderedMailsBuildIntoMessagesPythonReads) {
  ReportFacts f;
  f.firm_name = "Cabinet Dupont";
  f.client_name = "Hélène Lefèvre";
  f.report_title = "Succession Lefèvre";
  f.meeting_date = "2026-12-01";
  Rendered fr = ReportMail("fr", f);
  Message m = Sample();
  m.subject = fr.subject;
  m.text = fr.text;
  m.html = fr.html;
  auto built = BuildMessage(m);
  ASSERT_TRUE(built.ok());
  json parsed = ParseWithPython(*built);
  EXPECT_EQ(parsed["subject"], "Compte rendu du 1er décembre 2026 — Cabinet Dupont");
  EXPECT_EQ(parsed["text"], fr.text);
  EXPECT_EQ(parsed["html"], fr.html);
}

}  // namespace
}  // namespace crm::mail
