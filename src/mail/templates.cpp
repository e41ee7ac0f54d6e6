#include "mail/templates.h"

#include <vector>

#include "common/text.h"

namespace crm::mail {

namespace {

struct Para {
  std::string text;
  std::string link;  // set: a button-like link with `text` as its label
};

std::string Layout(const std::string& lang, const std::string& heading,
                   const std::vector<Para>& paras, const std::string& footer) {
  std::string h = "<!DOCTYPE html>\n<html lang=\"" + lang +
                  "\">\n<head><meta charset=\"utf-8\"><title>" + HtmlEscape(heading) +
                  "</title></head>\n<body style=\"font-family:Arial,Helvetica,sans-serif;"
                  "color:#1f2933;line-height:1.5;max-width:640px;margin:0 auto;padding:16px\">\n"
                  "<h1 style=\"font-size:20px\">" +
                  HtmlEscape(heading) + "</h1>\n";
  for (const auto& p : paras) {
    if (!p.link.empty()) {
      h += "<p><a href=\"" + HtmlEscape(p.link) +
           "\" style=\"display:inline-block;padding:10px 16px;background:#1d4ed8;color:#ffffff;"
           "text-decoration:none;border-radius:4px\">" +
           HtmlEscape(p.text) + "</a></p>\n<p style=\"font-size:12px;color:#52606d\">" +
           HtmlEscape(p.link) + "</p>\n";
      continue;
    }
    std::string escaped = HtmlEscape(p.text), withbr;
    for (char c : escaped) withbr += c == '\n' ? std::string("<br>") : std::string(1, c);
    h += "<p>" + withbr + "</p>\n";
  }
  h += "<p style=\"font-size:12px;color:#52606d\">" + HtmlEscape(footer) +
       "</p>\n</body>\n</html>\n";
  return h;
}

std::string Text(const std::vector<Para>& paras, const std::string& footer) {
  std::string t;
  for (const auto& p : paras) t += (p.link.empty() ? p.text : p.text + " : " + p.link) + "\n\n";
  return t + "-- \n" + footer + "\n";
}

Rendered Make(const std::string& lang, std::string subject, const std::string& heading,
              const std::vector<Para>& paras, const std::string& footer) {
  return {std::move(subject), Text(paras, footer), Layout(lang, heading, paras, footer)};
}

std::string RoleName(const std::string& lang, const std::string& role) {
  if (lang == "en") return role == "owner" ? "owner" : role == "admin" ? "administrator" : "member";
  return role == "owner" ? "propriétaire" : role == "admin" ? "administrateur" : "membre";
}

// Subjects are one line: whatever a name carries, line breaks become spaces.
std::string OneLine(std::string s) {
  for (char& c : s)
    if (c == '\r' || c == '\n' || c == '\t') c = ' ';
  return Trim(s);
}

}  // namespace

std::string PickLanguage(std::string_view lang) {
  std::string l = ToLowerAscii(Trim(lang));
  return l.rfind("en", 0) == 0 ? "en" : "fr";
}

std::string DateText(const std::string& lang, const std::string& iso) {
  if (iso.size() < 10) return iso;
  int y = 0, m = 0, d = 0;
  if (std::sscanf(iso.c_str(), "%4d-%2d-%2d", &y, &m, &d) != 3 || m < 1 || m > 12 || d < 1 ||
      d > 31)
    return iso;
  static const char* fr[] = {"janvier", "février", "mars",      "avril",   "mai",      "juin",
                             "juillet", "août",    "septembre", "octobre", "novembre", "décembre"};
  static const char* en[] = {"January", "February", "March",     "April",   "May",      "June",
                             "July",    "August",   "September", "October", "November", "December"};
  if (lang == "en")
    return std::string(en[m - 1]) + " " + std::to_string(d) + ", " + std::to_string(y);
  return (d == 1 ? std::string("1er") : std::to_string(d)) + " " + fr[m - 1] + " " +
         std::to_string(y);
}

Rendered InvitationMail(const std::string& lang, const InvitationFacts& f) {
  std::string firm = OneLine(f.firm_name);
  if (lang == "en") {
    std::vector<Para> p = {
        {"Hello,"},
        {(f.inviter_name.empty() ? std::string("You are") : f.inviter_name + " has") +
         " invited you to join " + firm + " on crm-ai as " + RoleName(lang, f.role) + "."},
        {"Accept the invitation", f.link},
        {"This link is valid for " + std::to_string(f.valid_days) +
         " days. If you did not expect this invitation, ignore this message."}};
    return Make(lang, "Invitation to join " + firm + " on crm-ai", "Invitation to " + firm, p,
                "crm-ai — " + firm);
  }
  std::vector<Para> p = {
      {"Bonjour,"},
      {(f.inviter_name.empty() ? std::string("Vous êtes invité(e)")
                               : f.inviter_name + " vous invite") +
       " à rejoindre " + firm + " sur crm-ai en tant que " + RoleName(lang, f.role) + "."},
      {"Accepter l'invitation", f.link},
      {"Ce lien est valable " + std::to_string(f.valid_days) +
       " jours. Si vous n'attendiez pas cette invitation, ignorez ce message."}};
  return Make(lang, "Invitation à rejoindre " + firm + " sur crm-ai", "Invitation — " + firm, p,
              "crm-ai — " + firm);
}

Rendered PasswordResetMail(const std::string& lang, const ResetFacts& f) {
  if (lang == "en") {
    std::vector<Para> p = {
        {"Hello" + (f.user_name.empty() ? std::string() : " " + f.user_name) + ","},
        {"Someone asked to reset the password of your crm-ai account."},
        {"Choose a new password", f.link},
        {"This link is valid for " + std::to_string(f.valid_minutes) +
         " minutes and can be used once. If you did not ask for it, ignore this message: your "
         "password stays the same."}};
    return Make(lang, "Reset your crm-ai password", "Password reset", p, "crm-ai");
  }
  std::vector<Para> p = {
      {"Bonjour" + (f.user_name.empty() ? std::string() : " " + f.user_name) + ","},
      {"Une réinitialisation du mot de passe de votre compte crm-ai a été demandée."},
      {"Choisir un nouveau mot de passe", f.link},
      {"Ce lien est valable " + std::to_string(f.valid_minutes) +
       " minutes et ne sert qu'une fois. Si vous n'êtes pas à l'origine de cette demande, ignorez "
       "ce message : votre mot de passe ne change pas."}};
  return Make(lang, "Réinitialisation de votre mot de passe crm-ai",
              "Réinitialisation du mot de passe", p, "crm-ai");
}

Rendered ReportMail(const std::string& lang, const ReportFacts& f) {
  std::string firm = OneLine(f.firm_name), title = OneLine(f.report_title);
  std::string date = DateText(lang, f.meeting_date);
  std::vector<Para> p;
  std::string subject = OneLine(f.subject);
  if (lang == "en") {
    p.push_back({"Hello" + (f.client_name.empty() ? std::string() : " " + f.client_name) + ","});
    if (!Trim(f.message).empty()) p.push_back({f.message});
    p.push_back({"Please find attached the report of our meeting" +
                 (date.empty() ? std::string() : " of " + date) + ": " + title + " (PDF)."});
    p.push_back({"Kind regards,\n" + (f.sender_name.empty() ? firm : f.sender_name + "\n" + firm)});
    if (subject.empty())
      subject = "Meeting report" + (date.empty() ? "" : " — " + date) + " — " + firm;
    return Make(lang, subject, title.empty() ? "Meeting report" : title, p, firm);
  }
  p.push_back({"Bonjour" + (f.client_name.empty() ? std::string() : " " + f.client_name) + ","});
  if (!Trim(f.message).empty()) p.push_back({f.message});
  p.push_back({"Veuillez trouver ci-joint le compte rendu de notre rendez-vous" +
               (date.empty() ? std::string() : " du " + date) + " : " + title + " (PDF)."});
  p.push_back(
      {"Bien cordialement,\n" + (f.sender_name.empty() ? firm : f.sender_name + "\n" + firm)});
  if (subject.empty())
    subject = "Compte rendu" + (date.empty() ? "" : " du " + date) + " — " + firm;
  return Make(lang, subject, title.empty() ? "Compte rendu" : title, p, firm);
}

Rendered TaskReminderMail(const std::string& lang, const ReminderFacts& f) {
  std::string task = OneLine(f.task_title);
  std::string date = DateText(lang, f.due_date);
  std::vector<Para> p;
  if (lang == "en") {
    p.push_back({"Hello" + (f.user_name.empty() ? std::string() : " " + f.user_name) + ","});
    p.push_back({std::string(f.overdue ? "This task was due on " : "This task is due on ") + date +
                 ": " + task + (f.client_name.empty() ? "" : " (client: " + f.client_name + ")") +
                 "."});
    p.push_back({"Open the task", f.link});
    return Make(lang, std::string(f.overdue ? "Overdue task: " : "Task due soon: ") + task,
                f.overdue ? "Overdue task" : "Task due soon", p,
                "crm-ai — " + OneLine(f.firm_name));
  }
  p.push_back({"Bonjour" + (f.user_name.empty() ? std::string() : " " + f.user_name) + ","});
  p.push_back({std::string(f.overdue ? "Cette tâche était à faire pour le "
                                     : "Cette tâche est à faire pour le ") +
               date + " : " + task +
               (f.client_name.empty() ? "" : " (client : " + f.client_name + ")") + "."});
  p.push_back({"Ouvrir la tâche", f.link});
  return Make(lang, std::string(f.overdue ? "Tâche en retard : " : "Tâche à échéance : ") + task,
              f.overdue ? "Tâche en retard" : "Tâche à échéance", p,
              "crm-ai — " + OneLine(f.firm_name));
}

}  // namespace crm::mail
