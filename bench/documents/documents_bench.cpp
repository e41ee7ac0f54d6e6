// Meeting-report and PDF speed.
//
// Report: ExtractiveReport (SUMMARY_MODE=extractive) of a generated one-hour French meeting
// (three speakers, about 9,000 words in 6-to-9-second segments, with commitments, deadlines and
// decisions among the sentences), against the reference measured in the same run: the same
// segments rendered as the TXT export (one pass over the text, what any report must at least
// read). Both are timed over `rounds` repetitions; the best and median are printed.
//
// PDF: the report rendered into the default DOCX template, and the one-hour transcript rendered
// into the default transcript template (many pages), each converted with ConvertToPdf
// (PDF_CONVERTER=libreoffice: its own profile directory per conversion, as the export job runs
// it) against the reference `soffice --headless --convert-to pdf` of the same file from the
// shell with a profile directory of its own, alternated over `conversions` runs. Pages come from
// `pdfinfo`; the time per page is printed for both.
//
// Usage: bench_documents [rounds=20] [conversions=3]
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "asr/format.h"
#include "asr/transcript.h"
#include "common/ids.h"
#include "documents/docx_template.h"
#include "documents/pdf_converter.h"
#include "documents/report.h"

namespace {

using namespace crm;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

void Check(const Status& st, const char* what) {
  if (!st.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, st.error().message.c_str());
    std::exit(1);
  }
}

// A meeting between an adviser and two clients: ordinary sentences built from subjects, verbs
// and objects of a cabinet's work, with one sentence in twelve a commitment or request and one in
// forty a decision, as such meetings go.
std::vector<documents::ReportSegment> GenerateMeeting(double seconds, unsigned seed) {
  const std::vector<std::string> subjects = {"le dossier",
                                             "la succession",
                                             "le bail commercial",
                                             "la déclaration fiscale",
                                             "le compromis de vente",
                                             "la société civile",
                                             "le contrat de travail",
                                             "la donation",
                                             "le bilan annuel",
                                             "l'assemblée générale",
                                             "le prêt immobilier",
                                             "la holding"};
  const std::vector<std::string> verbs = {
      "demande une vérification de", "pose une question sur",  "dépend entièrement de",
      "reste compatible avec",       "modifie sensiblement",   "ne change rien pour",
      "a des conséquences sur",      "doit être comparé avec", "concerne aussi"};
  const std::vector<std::string> objects = {
      "la répartition des parts",    "les frais de notaire",
      "le calendrier des échéances", "la clause de non-concurrence",
      "les droits des héritiers",    "le régime matrimonial",
      "la valeur du fonds",          "les pièces justificatives",
      "le montant de la provision",  "l'option pour l'impôt sur les sociétés",
      "la date de signature",        "les garanties"};
  const std::vector<std::string> actions = {
      "Je vous envoie le projet de convention avant le 15 janvier.",
      "Il faut que vous nous transmettiez les trois derniers avis d'imposition.",
      "Pourriez-vous vérifier l'état hypothécaire d'ici vendredi ?",
      "Nous allons préparer une simulation pour la prochaine réunion.",
      "Je m'engage à relancer la banque demain.",
      "Vous devez signer le mandat avant la fin du mois."};
  const std::vector<std::string> decisions = {
      "Nous avons décidé de retenir l'option de la donation-partage.",
      "Il est convenu que la signature aura lieu à l'étude.",
      "C'est validé pour la constitution de la société civile."};
  const std::vector<std::string> speakers = {"Maître Durand", "Mme Martin", "M. Martin"};
  std::mt19937 rng(seed);
  std::vector<documents::ReportSegment> out;
  double t = 0;
  int n = 0;
  while (t < seconds) {
    documents::ReportSegment s;
    s.id = "seg_" + std::to_string(n);
    s.start = t;
    double len = 6.0 + (rng() % 3000) / 1000.0;
    s.end = t + len;
    s.speaker = speakers[(rng() % 10 < 5) ? 0 : 1 + rng() % 2];
    int kind = rng() % 40;
    if (kind == 0) {
      s.text = decisions[rng() % decisions.size()];
    } else if (kind < 4) {
      s.text = actions[rng() % actions.size()];
    } else {
      std::string a = subjects[rng() % subjects.size()];
      a[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(a[0])));
      s.text = a + " " + verbs[rng() % verbs.size()] + " " + objects[rng() % objects.size()] +
               ", et " + subjects[rng() % subjects.size()] + " " + verbs[rng() % verbs.size()] +
               " " + objects[rng() % objects.size()] + ".";
    }
    out.push_back(std::move(s));
    t += len;
    ++n;
  }
  return out;
}

struct Timing {
  double best = 0, median = 0;
};

template <typename F>
Timing Time(int rounds, F&& f) {
  std::vector<double> t;
  for (int i = 0; i < rounds; ++i) {
    auto start = Clock::now();
    f();
    t.push_back(Seconds(start));
  }
  std::sort(t.begin(), t.end());
  return {t.front(), t[t.size() / 2]};
}

int Pages(const std::string& pdf) {
  std::string cmd = "pdfinfo '" + pdf + "' 2>/dev/null | awk '/^Pages:/{print $2}'";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return 0;
  int pages = 0;
  if (std::fscanf(p, "%d", &pages) != 1) pages = 0;
  pclose(p);
  return pages;
}

// The reference: LibreOffice's own command line, with its own profile like ours.
double ShellConvert(const std::string& docx, const std::string& dir) {
  fs::create_directories(dir + "/out");
  std::string cmd =
      "HOME='" + dir + "' soffice --headless --norestore -env:UserInstallation=file://" + dir +
      "/profile --convert-to pdf --outdir '" + dir + "/out' '" + docx + "' >/dev/null 2>&1";
  auto start = Clock::now();
  int rc = std::system(cmd.c_str());
  double s = Seconds(start);
  if (rc != 0) {
    std::fprintf(stderr, "soffice failed (%d)\n", rc);
    std::exit(1);
  }
  return s;
}

void ComparePdf(const char* name, const std::string& docx, const std::string& work,
                int conversions) {
  documents::PdfOptions po;
  po.tmp_dir = work;
  std::vector<double> ours, shell;
  int pages = 0;
  for (int i = 0; i < conversions; ++i) {
    std::string pdf = work + "/ours-" + std::to_string(i) + ".pdf";
    auto start = Clock::now();
    Check(documents::ConvertToPdf(docx, pdf, po), "ConvertToPdf");
    ours.push_back(Seconds(start));
    pages = Pages(pdf);
    std::string dir = work + "/shell-" + std::to_string(i);
    shell.push_back(ShellConvert(docx, dir));
    fs::remove_all(dir);
    fs::remove(pdf);
  }
  std::sort(ours.begin(), ours.end());
  std::sort(shell.begin(), shell.end());
  double o = ours[ours.size() / 2], s = shell[shell.size() / 2];
  int p = std::max(pages, 1);
  std::printf(
      "%-22s %4d pages  crm-ai %7.2f s (%6.0f ms/page)  soffice %7.2f s (%6.0f ms/page)  "
      "ratio %.2f\n",
      name, pages, o, 1000 * o / p, s, 1000 * s / p, o / s);
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 20;
  int conversions = argc > 2 ? std::atoi(argv[2]) : 3;
  if (rounds < 1 || conversions < 1) {
    std::fprintf(stderr, "usage: bench_documents [rounds>=1] [conversions>=1]\n");
    return 2;
  }

  documents::ReportInput in;
  in.firm_name = "Étude Durand & Associés";
  in.client_name = "M. et Mme Martin";
  in.meeting_title = "Préparation de la donation";
  in.meeting_date = "2026-12-01T10:00:00+01:00";
  in.participants = {"Maître Durand", "Mme Martin", "M. Martin"};
  in.recording_id = "rec_bench";
  in.segments = GenerateMeeting(3600, 7);
  size_t words = 0;
  asr::Transcript t;
  t.language = "fr";
  for (const auto& s : in.segments) {
    words += std::count(s.text.begin(), s.text.end(), ' ') + 1;
    asr::Segment seg;
    seg.start = s.start;
    seg.end = s.end;
    seg.text = " " + s.text;
    seg.speaker = s.speaker;
    t.segments.push_back(seg);
  }
  t.duration = in.segments.back().end;

  documents::Report report;
  Timing rep = Time(rounds, [&] {
    auto r = documents::ExtractiveReport(in);
    if (!r.ok()) {
      std::fprintf(stderr, "ExtractiveReport: %s\n", r.error().message.c_str());
      std::exit(1);
    }
    report = std::move(*r);
  });
  size_t sink = 0;
  Timing txt = Time(rounds, [&] { sink += asr::ToTxt(t).size(); });
  std::printf("one-hour transcript: %zu segments, %zu words (rounds %d)\n", in.segments.size(),
              words, rounds);
  std::printf(
      "extractive report    best %8.2f ms  median %8.2f ms   (summary %zu, actions %zu, "
      "decisions %zu, excerpts %zu)\n",
      1000 * rep.best, 1000 * rep.median, report.summary.size(), report.actions.size(),
      report.decisions.size(), report.excerpts.size());
  std::printf("reference TXT export best %8.2f ms  median %8.2f ms   ratio %.1f (median)\n",
              1000 * txt.best, 1000 * txt.median, rep.median / txt.median);
  if (sink == 0) return 1;

  std::string work = (fs::temp_directory_path() / ("crm-bench-documents-" + RandomHex(6))).string();
  fs::create_directories(work);
  std::string report_tpl = work + "/report-template.docx";
  std::string transcript_tpl = work + "/transcript-template.docx";
  Check(documents::WriteDefaultReportTemplate(report_tpl), "report template");
  Check(documents::WriteDefaultTranscriptTemplate(transcript_tpl), "transcript template");
  std::string report_docx = work + "/report.docx";
  Check(documents::RenderDocx(report_tpl,
                              documents::ReportTemplateContext(documents::ReportToJson(report)),
                              report_docx),
        "report docx");
  nlohmann::json segments = nlohmann::json::array();
  for (const auto& s : in.segments)
    segments.push_back({{"time", documents::ClockTime(s.start)},
                        {"start", s.start},
                        {"speaker", s.speaker},
                        {"text", s.text}});
  std::string transcript_docx = work + "/transcript.docx";
  Timing render = Time(1, [&] {
    Check(documents::RenderDocx(transcript_tpl,
                                {{"title", "Transcription — " + in.meeting_title},
                                 {"client", in.client_name},
                                 {"date_text", documents::FrenchDate(in.meeting_date)},
                                 {"segments", segments}},
                                transcript_docx),
          "transcript docx");
  });
  std::printf("transcript DOCX render %.0f ms (%zu segments)\n", 1000 * render.best,
              in.segments.size());
  std::printf("DOCX -> PDF, median of %d alternated runs:\n", conversions);
  ComparePdf("report (compte-rendu)", report_docx, work, conversions);
  ComparePdf("one-hour transcript", transcript_docx, work, conversions);
  fs::remove_all(work);
  return 0;
}
