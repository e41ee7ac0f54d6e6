// The mails' texts, French (default) and English: subject, plain-text part and HTML part (every
// value HTML-escaped), built from the facts of each kind of mail.
#pragma once

#include <string>
#include <string_view>

namespace crm::mail {

struct Rendered {
  std::string subject, text, html;
};

// "en" when `lang` starts with "en", else "fr".
std::string PickLanguage(std::string_view lang);

struct InvitationFacts {
  std::string firm_name, inviter_name, role, link;
  int valid_days = 7;
};
Rendered InvitationMail(const std::string& lang, const InvitationFacts& f);

struct ResetFacts {
  std::string user_name, link;
  int valid_minutes = 60;
};
Rendered PasswordResetMail(const std::string& lang, const ResetFacts& f);

struct ReportFacts {
  std::string firm_name, client_name, report_title, meeting_date;  // date as ISO-8601
  std::string sender_name, message;                                // the user's own words, optional
  std::string subject;  // the user's subject; empty = the template's
};
Rendered ReportMail(const std::string& lang, const ReportFacts& f);

struct ReminderFacts {
  std::string user_name, firm_name, task_title, due_date, client_name, link;
  bool overdue = false;
};
Rendered TaskReminderMail(const std::string& lang, const ReminderFacts& f);

// "1er décembre 2026" / "December 1, 2026" from an ISO-8601 date; the input when unreadable.
std::string DateText(const std::string& lang, const std::string& iso);

}  // namespace crm::mail
