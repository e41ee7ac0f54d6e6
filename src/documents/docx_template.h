// DOCX from templates: a firm's own .docx (or the default one, built by code) with
// placeholders, filled from a JSON context.
//
// Placeholders (mustache-like, in the document body, headers and footers):
// - {{client.name}}, {{meeting.date}}: a value by dotted path; missing values are empty.
// - {{#actions}} … {{/actions}}: repeated for each item of a list, inside which {{what}} names
//   the item's fields ({{.}} the item itself). When the opening and closing markers are alone in
//   their paragraphs, the paragraphs between them repeat; when they sit in one table row, the
//   row repeats; otherwise the text between them repeats inside the paragraph.
// - {{^actions}} … {{/actions}}: shown only when the list is empty or the value false/missing.
// Word splits typed text into several runs (spell check, edits, formatting), so "{{client.name}}"
// may arrive as "{{", "client.", "name}}": a paragraph holding "{{" has its runs' text merged
// into its first run (that run's formatting applies to the paragraph's text) before it is
// filled. Values are XML-escaped by pugixml; the archive's other members are copied unchanged,
// so the output opens in Word and LibreOffice without repair.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "documents/safe_zip.h"

namespace crm::documents {

// Fills the template at `template_path` into a new .docx at `output_path`. kInvalidArgument
// when the template is not a DOCX (with the reason); hostile archives as SafeZip refuses them.
Status RenderDocx(const std::string& template_path, const nlohmann::json& context,
                  const std::string& output_path, const ZipLimits& limits = {});

// Writes the default meeting-report template (French, A4, headings, tables) to `path`.
Status WriteDefaultReportTemplate(const std::string& path);
// Writes the default transcript template (one paragraph per segment) to `path`.
Status WriteDefaultTranscriptTemplate(const std::string& path);

// Exposed for tests: the text-level renderer applied to one paragraph's merged text.
std::string RenderText(const std::string& text, const nlohmann::json& context);

}  // namespace crm::documents
