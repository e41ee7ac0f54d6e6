#include "documents/docx_template.h"

#include <zip.h>

#include <pugixml.hpp>

#include <functional>
#include <map>
#include <sstream>
#include <vector>

#include "common/text.h"

namespace crm::documents {

using nlohmann::json;

namespace {

// --- the text-level renderer ---------------------------------------------------------------

using Stack = std::vector<const json*>;

const json* Lookup(const std::string& name, const Stack& stack) {
  if (name == ".") return stack.back();
  std::vector<std::string> parts = Split(name, '.');
  for (auto it = stack.rbegin(); it != stack.rend(); ++it) {
    const json* cur = *it;
    if (!cur->is_object() || !cur->contains(parts[0])) continue;
    cur = &(*cur)[parts[0]];
    for (size_t i = 1; i < parts.size() && cur; ++i)
      cur = cur->is_object() && cur->contains(parts[i]) ? &(*cur)[parts[i]] : nullptr;
    return cur;
  }
  return nullptr;
}

std::string ToText(const json* v) {
  if (!v || v->is_null()) return "";
  if (v->is_string()) return v->get<std::string>();
  if (v->is_boolean()) return v->get<bool>() ? "oui" : "non";
  if (v->is_number()) return v->dump();
  if (v->is_array()) {
    std::string out;
    for (const auto& e : *v) out += (out.empty() ? "" : ", ") + ToText(&e);
    return out;
  }
  return "";
}

bool Truthy(const json* v) {
  if (!v || v->is_null()) return false;
  if (v->is_boolean()) return v->get<bool>();
  if (v->is_array()) return !v->empty();
  if (v->is_string()) return !v->get<std::string>().empty();
  return true;
}

std::string Render(const std::string& t, Stack& stack, int depth);

// The position of the {{/name}} closing the section opened before `from`, or npos.
size_t FindClose(const std::string& t, const std::string& name, size_t from, size_t* close_end) {
  int level = 1;
  size_t pos = from;
  while ((pos = t.find("{{", pos)) != std::string::npos) {
    size_t end = t.find("}}", pos + 2);
    if (end == std::string::npos) return std::string::npos;
    std::string tag = Trim(std::string_view(t).substr(pos + 2, end - pos - 2));
    if ((tag[0] == '#' || tag[0] == '^') && Trim(tag.substr(1)) == name) ++level;
    if (tag[0] == '/' && Trim(tag.substr(1)) == name && --level == 0) {
      *close_end = end + 2;
      return pos;
    }
    pos = end + 2;
  }
  return std::string::npos;
}

std::string Render(const std::string& t, Stack& stack, int depth) {
  if (depth > 8) return "";
  std::string out;
  size_t pos = 0;
  while (pos < t.size()) {
    size_t open = t.find("{{", pos);
    if (open == std::string::npos) break;
    size_t end = t.find("}}", open + 2);
    if (end == std::string::npos) break;
    out.append(t, pos, open - pos);
    std::string tag = Trim(std::string_view(t).substr(open + 2, end - open - 2));
    pos = end + 2;
    if (tag.empty()) continue;
    char kind = tag[0];
    if (kind == '#' || kind == '^') {
      std::string name = Trim(tag.substr(1));
      size_t close_end = 0;
      size_t close = FindClose(t, name, pos, &close_end);
      if (close == std::string::npos) continue;  // unclosed: the marker is dropped
      std::string inner = t.substr(pos, close - pos);
      const json* v = Lookup(name, stack);
      if (kind == '^') {
        if (!Truthy(v)) out += Render(inner, stack, depth + 1);
      } else if (v && v->is_array()) {
        for (const auto& item : *v) {
          stack.push_back(&item);
          out += Render(inner, stack, depth + 1);
          stack.pop_back();
        }
      } else if (Truthy(v)) {
        stack.push_back(v);
        out += Render(inner, stack, depth + 1);
        stack.pop_back();
      }
      pos = close_end;
    } else if (kind == '/' || kind == '!') {
      // A stray closing tag or a comment renders as nothing.
    } else {
      out += ToText(Lookup(tag, stack));
    }
  }
  if (pos < t.size()) out.append(t, pos, std::string::npos);
  return out;
}

// --- paragraphs, rows and blocks -----------------------------------------------------------

std::vector<pugi::xml_node> TextNodes(pugi::xml_node p) {
  std::vector<pugi::xml_node> out;
  for (pugi::xpath_node n : p.select_nodes(".//w:t")) out.push_back(n.node());
  return out;
}

std::string NodeText(pugi::xml_node node) {
  std::string s;
  for (auto t : TextNodes(node)) s += t.text().get();
  return s;
}

// Sets a paragraph's text into its first run, line breaks as <w:br/>.
void SetParagraphText(pugi::xml_node p, const std::string& text) {
  auto nodes = TextNodes(p);
  if (nodes.empty()) return;
  pugi::xml_node first = nodes[0];
  for (size_t i = 1; i < nodes.size(); ++i) nodes[i].parent().remove_child(nodes[i]);
  std::vector<std::string> lines = Split(text, '\n');
  if (lines.empty()) lines.push_back("");
  first.text().set(lines[0].c_str());
  first.remove_attribute("xml:space");
  first.append_attribute("xml:space") = "preserve";
  pugi::xml_node run = first.parent(), after = first;
  for (size_t i = 1; i < lines.size(); ++i) {
    after = run.insert_child_after("w:br", after);
    after = run.insert_child_after("w:t", after);
    after.append_attribute("xml:space") = "preserve";
    after.text().set(lines[i].c_str());
  }
}

struct Marker {
  char kind = 0;  // '#', '^' or '/'
  std::string name;
};

// A paragraph that holds nothing but one section marker.
std::optional<Marker> MarkerOf(pugi::xml_node p) {
  std::string t = Trim(NodeText(p));
  if (t.size() < 6 || t.rfind("{{", 0) != 0 || t.substr(t.size() - 2) != "}}") return std::nullopt;
  if (t.find("{{", 2) != std::string::npos) return std::nullopt;
  std::string tag = Trim(t.substr(2, t.size() - 4));
  if (tag.empty() || (tag[0] != '#' && tag[0] != '^' && tag[0] != '/')) return std::nullopt;
  return Marker{tag[0], Trim(tag.substr(1))};
}

void ProcessContainer(pugi::xml_node container, Stack& stack, int depth);

void RenderParagraph(pugi::xml_node p, Stack& stack) {
  std::string text = NodeText(p);
  if (text.find("{{") == std::string::npos) return;
  SetParagraphText(p, Render(text, stack, 0));
}

// A table row whose text opens and closes the same section repeats once per item.
bool RenderRepeatingRow(pugi::xml_node row, Stack& stack, int depth) {
  std::string text = Trim(NodeText(row));
  if (text.rfind("{{#", 0) != 0) return false;
  size_t end = text.find("}}");
  if (end == std::string::npos) return false;
  std::string name = Trim(text.substr(3, end - 3));
  std::string close = "{{/" + name + "}}";
  if (text.size() < close.size() || text.substr(text.size() - close.size()) != close) return false;
  const json* v = Lookup(name, stack);
  pugi::xml_node parent = row.parent();
  std::vector<const json*> items;
  if (v && v->is_array())
    for (const auto& item : *v) items.push_back(&item);
  pugi::xml_node at = row;
  for (const json* item : items) {
    pugi::xml_node copy = parent.insert_copy_after(row, at);
    // The markers go; the rest of each cell is rendered with the item on top.
    for (pugi::xpath_node pn : copy.select_nodes(".//w:p")) {
      std::string t = NodeText(pn.node());
      bool changed = false;
      for (const std::string& m : {"{{#" + name + "}}", close}) {
        size_t f = t.find(m);
        if (f != std::string::npos) {
          t.erase(f, m.size());
          changed = true;
        }
      }
      if (changed) SetParagraphText(pn.node(), t);
    }
    stack.push_back(item);
    for (pugi::xml_node cell : copy.children("w:tc")) ProcessContainer(cell, stack, depth + 1);
    stack.pop_back();
    at = copy;
  }
  parent.remove_child(row);
  return true;
}

void ProcessContainer(pugi::xml_node container, Stack& stack, int depth) {
  if (depth > 8) return;
  pugi::xml_node child = container.first_child();
  while (child) {
    pugi::xml_node next = child.next_sibling();
    std::string_view name = child.name();
    if (name == "w:p") {
      auto marker = MarkerOf(child);
      if (marker && marker->kind != '/') {
        // Paragraph block: find the closing marker among the following siblings.
        std::vector<pugi::xml_node> body;
        pugi::xml_node close;
        int level = 1;
        for (pugi::xml_node n = child.next_sibling(); n; n = n.next_sibling()) {
          auto m = n.name() == std::string_view("w:p") ? MarkerOf(n) : std::nullopt;
          if (m && m->name == marker->name) {
            if (m->kind == '/' && --level == 0) {
              close = n;
              break;
            }
            if (m->kind != '/') ++level;
          }
          body.push_back(n);
        }
        if (!close) {
          RenderParagraph(child, stack);
          child = next;
          continue;
        }
        const json* v = Lookup(marker->name, stack);
        std::vector<const json*> items;
        if (marker->kind == '^') {
          if (!Truthy(v)) items.push_back(stack.back());
        } else if (v && v->is_array()) {
          for (const auto& item : *v) items.push_back(&item);
        } else if (Truthy(v)) {
          items.push_back(v);
        }
        // Copies of the block go before the closing marker, each rendered with its item.
        for (const json* item : items) {
          pugi::xml_node holder = container.insert_child_before("crm-block", close);
          for (auto n : body) holder.append_copy(n);
          stack.push_back(item);
          ProcessContainer(holder, stack, depth + 1);
          stack.pop_back();
          for (pugi::xml_node n = holder.first_child(); n;) {
            pugi::xml_node nn = n.next_sibling();
            container.insert_move_before(n, holder);
            n = nn;
          }
          container.remove_child(holder);
        }
        next = close.next_sibling();
        for (auto n : body) container.remove_child(n);
        container.remove_child(child);
        container.remove_child(close);
      } else if (marker) {
        container.remove_child(child);  // a stray closing marker
      } else {
        RenderParagraph(child, stack);
      }
    } else if (name == "w:tbl") {
      for (pugi::xml_node row = child.child("w:tr"); row;) {
        pugi::xml_node next_row = row.next_sibling("w:tr");
        if (!RenderRepeatingRow(row, stack, depth))
          for (pugi::xml_node cell : row.children("w:tc")) ProcessContainer(cell, stack, depth + 1);
        row = next_row;
      }
    } else if (name == "w:sdt" || name == "w:sdtContent" || name == "w:tc" ||
               name == "w:hdr" || name == "w:ftr" || name == "w:txbxContent") {
      ProcessContainer(child, stack, depth + 1);
    } else if (child.first_child() && name != "w:sectPr") {
      ProcessContainer(child, stack, depth + 1);  // runs holding text boxes, etc.
    }
    child = next;
  }
}

Result<std::string> RenderPart(const std::string& xml, const json& context) {
  pugi::xml_document doc;
  if (!doc.load_buffer(xml.data(), xml.size(), pugi::parse_default | pugi::parse_ws_pcdata_single))
    return InvalidArgument("Le modèle DOCX est illisible (XML invalide). / The DOCX template "
                           "cannot be read (invalid XML).",
                           {{"template", "invalid_xml"}});
  Stack stack = {&context};
  pugi::xml_node root = doc.document_element();
  pugi::xml_node body = root.child("w:body");
  ProcessContainer(body ? body : root, stack, 0);
  std::ostringstream out;
  doc.save(out, "", pugi::format_raw, pugi::encoding_utf8);
  return out.str();
}

bool IsFilledPart(const std::string& name) {
  return name == "word/document.xml" ||
         (name.rfind("word/header", 0) == 0 && name.size() > 4 &&
          name.substr(name.size() - 4) == ".xml") ||
         (name.rfind("word/footer", 0) == 0 && name.size() > 4 &&
          name.substr(name.size() - 4) == ".xml");
}

// Writes `members` (name → bytes) as a new ZIP archive at `path`.
Status WriteZip(const std::string& path,
                const std::vector<std::pair<std::string, std::string>>& members) {
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  if (!z) return IoError("cannot create " + path);
  for (const auto& [name, data] : members) {
    void* copy = std::malloc(data.size() + 1);
    std::memcpy(copy, data.data(), data.size());
    zip_source_t* src = zip_source_buffer(z, copy, data.size(), 1);
    if (!src || zip_file_add(z, name.c_str(), src, ZIP_FL_ENC_UTF_8 | ZIP_FL_OVERWRITE) < 0) {
      if (src) zip_source_free(src);
      zip_discard(z);
      return IoError("cannot write " + name + " into " + path);
    }
  }
  if (zip_close(z) != 0) {
    zip_discard(z);
    return IoError("cannot finish " + path);
  }
  return OkStatus();
}

constexpr const char* kW = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";

std::string ContentTypes() {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>"
         "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
         "<Default Extension=\"rels\" "
         "ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
         "<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
         "<Override PartName=\"/word/document.xml\" "
         "ContentType=\"application/"
         "vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>"
         "<Override PartName=\"/word/styles.xml\" "
         "ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml\"/>"
         "</Types>";
}

std::string PackageRels() {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>"
         "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
         "<Relationship Id=\"rId1\" "
         "Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
         "officeDocument\" Target=\"word/document.xml\"/></Relationships>";
}

std::string DocumentRels() {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>"
         "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
         "<Relationship Id=\"rId1\" "
         "Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles\" "
         "Target=\"styles.xml\"/></Relationships>";
}

std::string Styles() {
  return std::string("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><w:styles "
                     "xmlns:w=\"") +
         kW +
         "\"><w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii=\"Liberation Sans\" "
         "w:hAnsi=\"Liberation Sans\" w:cs=\"Liberation Sans\" w:eastAsia=\"Liberation Sans\"/>"
         "<w:sz w:val=\"21\"/><w:szCs w:val=\"21\"/><w:lang w:val=\"fr-FR\"/></w:rPr>"
         "</w:rPrDefault><w:pPrDefault><w:pPr><w:spacing w:after=\"120\" w:line=\"264\" "
         "w:lineRule=\"auto\"/></w:pPr></w:pPrDefault></w:docDefaults>"
         "<w:style w:type=\"paragraph\" w:default=\"1\" w:styleId=\"Normal\"><w:name "
         "w:val=\"Normal\"/></w:style>"
         "<w:style w:type=\"paragraph\" w:styleId=\"Title\"><w:name w:val=\"Title\"/><w:basedOn "
         "w:val=\"Normal\"/><w:next w:val=\"Normal\"/><w:pPr><w:spacing w:after=\"240\"/></w:pPr>"
         "<w:rPr><w:b/><w:color w:val=\"1F3864\"/><w:sz w:val=\"36\"/></w:rPr></w:style>"
         "<w:style w:type=\"paragraph\" w:styleId=\"Heading1\"><w:name w:val=\"heading 1\"/>"
         "<w:basedOn w:val=\"Normal\"/><w:next w:val=\"Normal\"/><w:pPr><w:keepNext/><w:spacing "
         "w:before=\"240\" w:after=\"120\"/><w:outlineLvl w:val=\"0\"/></w:pPr><w:rPr><w:b/>"
         "<w:color w:val=\"1F3864\"/><w:sz w:val=\"28\"/></w:rPr></w:style>"
         "<w:style w:type=\"paragraph\" w:styleId=\"Small\"><w:name w:val=\"Small\"/><w:basedOn "
         "w:val=\"Normal\"/><w:rPr><w:color w:val=\"595959\"/><w:sz w:val=\"18\"/></w:rPr>"
         "</w:style>"
         "<w:style w:type=\"table\" w:styleId=\"Grid\"><w:name w:val=\"Table Grid\"/><w:tblPr>"
         "<w:tblBorders><w:top w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"A6A6A6\"/>"
         "<w:left w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"A6A6A6\"/><w:bottom "
         "w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"A6A6A6\"/><w:right w:val=\"single\" "
         "w:sz=\"4\" w:space=\"0\" w:color=\"A6A6A6\"/><w:insideH w:val=\"single\" w:sz=\"4\" "
         "w:space=\"0\" w:color=\"A6A6A6\"/><w:insideV w:val=\"single\" w:sz=\"4\" w:space=\"0\" "
         "w:color=\"A6A6A6\"/></w:tblBorders><w:tblCellMar><w:left w:w=\"80\" w:type=\"dxa\"/>"
         "<w:right w:w=\"80\" w:type=\"dxa\"/></w:tblCellMar></w:tblPr></w:style></w:styles>";
}

std::string Esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '&') o += "&amp;";
    else if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else o += c;
  }
  return o;
}

std::string P(const std::string& text, const std::string& style = "", bool bold = false) {
  std::string ppr = style.empty() ? "" : "<w:pPr><w:pStyle w:val=\"" + style + "\"/></w:pPr>";
  std::string rpr = bold ? "<w:rPr><w:b/></w:rPr>" : "";
  return "<w:p>" + ppr + "<w:r>" + rpr + "<w:t xml:space=\"preserve\">" + Esc(text) +
         "</w:t></w:r></w:p>";
}

std::string Cell(const std::string& text, int width, bool bold = false) {
  return "<w:tc><w:tcPr><w:tcW w:w=\"" + std::to_string(width) + "\" w:type=\"dxa\"/></w:tcPr>" +
         P(text, "", bold) + "</w:tc>";
}

std::string Table(const std::vector<int>& widths, const std::string& rows) {
  std::string grid;
  for (int w : widths) grid += "<w:gridCol w:w=\"" + std::to_string(w) + "\"/>";
  return "<w:tbl><w:tblPr><w:tblStyle w:val=\"Grid\"/><w:tblW w:w=\"0\" w:type=\"auto\"/>"
         "<w:tblLook w:val=\"04A0\"/></w:tblPr><w:tblGrid>" +
         grid + "</w:tblGrid>" + rows + "</w:tbl>";
}

std::string Document(const std::string& body) {
  return std::string("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><w:document "
                     "xmlns:w=\"") +
         kW + "\"><w:body>" + body +
         "<w:sectPr><w:pgSz w:w=\"11906\" w:h=\"16838\"/><w:pgMar w:top=\"1134\" "
         "w:right=\"1134\" w:bottom=\"1134\" w:left=\"1134\" w:header=\"567\" w:footer=\"567\" "
         "w:gutter=\"0\"/></w:sectPr></w:body></w:document>";
}

Status WriteTemplate(const std::string& path, const std::string& body) {
  return WriteZip(path, {{"[Content_Types].xml", ContentTypes()},
                         {"_rels/.rels", PackageRels()},
                         {"word/_rels/document.xml.rels", DocumentRels()},
                         {"word/styles.xml", Styles()},
                         {"word/document.xml", Document(body)}});
}

}  // namespace

std::string RenderText(const std::string& text, const json& context) {
  Stack stack = {&context};
  return Render(text, stack, 0);
}

Status RenderDocx(const std::string& template_path, const json& context,
                  const std::string& output_path, const ZipLimits& limits) {
  auto zip = SafeZip::Open(template_path, limits);
  if (!zip.ok()) {
    if (zip.error().api_code == "hostile_file") return zip.take_error();
    return InvalidArgument("Le modèle n'est pas un fichier DOCX. / The template is not a DOCX "
                           "file.",
                           {{"template", "not_docx"}});
  }
  if (!(*zip)->Has("word/document.xml"))
    return InvalidArgument("Le modèle n'est pas un document Word (word/document.xml absent). / "
                           "The template is not a Word document (no word/document.xml).",
                           {{"template", "not_docx"}});
  std::vector<std::pair<std::string, std::string>> members;
  for (const auto& e : (*zip)->entries()) {
    if (!e.name.empty() && e.name.back() == '/') continue;  // directories
    CRM_ASSIGN_OR_RETURN(std::string data, (*zip)->Read(e.name));
    if (IsFilledPart(e.name)) {
      CRM_ASSIGN_OR_RETURN(data, RenderPart(data, context));
    }
    members.emplace_back(e.name, std::move(data));
  }
  return WriteZip(output_path, members);
}

Status WriteDefaultReportTemplate(const std::string& path) {
  std::string header_rows =
      "<w:tr>" + Cell("Cabinet", 2600, true) + Cell("{{header.firm}}", 7000) + "</w:tr>" +
      "<w:tr>" + Cell("Client", 2600, true) + Cell("{{header.client}}", 7000) + "</w:tr>" +
      "<w:tr>" + Cell("Date", 2600, true) + Cell("{{date_text}}", 7000) + "</w:tr>" +
      "<w:tr>" + Cell("Participants", 2600, true) + Cell("{{participants_text}}", 7000) +
      "</w:tr>";
  std::string action_rows = "<w:tr>" + Cell("Qui", 2400, true) + Cell("Quoi", 5200, true) +
                            Cell("Échéance", 2000, true) + "</w:tr>" + "<w:tr>" +
                            Cell("{{#actions}}{{who}}", 2400) + Cell("{{what}}", 5200) +
                            Cell("{{due}}{{/actions}}", 2000) + "</w:tr>";
  std::string body =
      P("{{title}}", "Title") + Table({2600, 7000}, header_rows) + P("Résumé", "Heading1") +
      P("{{#summary}}") + P("{{text}}") + P("{{/summary}}") + P("Décisions", "Heading1") +
      P("{{#decisions}}") + P("• {{text}}") + P("{{/decisions}}") + P("{{^decisions}}") +
      P("Aucune décision relevée.") + P("{{/decisions}}") + P("Actions", "Heading1") +
      P("{{^actions}}") + P("Aucune action relevée.") + P("{{/actions}}") +
      P("{{#has_actions}}") + Table({2400, 5200, 2000}, action_rows) + P("{{/has_actions}}") +
      P("Extraits", "Heading1") + P("{{#excerpts}}") +
      P("[{{time}}] {{speaker}} : « {{text}} »") + P("{{/excerpts}}") +
      P("Compte rendu établi à partir de l'enregistrement du rendez-vous ; relu avant envoi.",
        "Small");
  return WriteTemplate(path, body);
}

Status WriteDefaultTranscriptTemplate(const std::string& path) {
  std::string body = P("{{title}}", "Title") + P("{{client}} — {{date_text}}", "Small") +
                     P("{{#segments}}") + P("[{{time}}] {{speaker}} : {{text}}") +
                     P("{{/segments}}");
  return WriteTemplate(path, body);
}

}  // namespace crm::documents
