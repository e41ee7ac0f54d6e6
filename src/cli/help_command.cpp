// `crm-ai help [COMMAND]`, `--version`, and the dispatch of sub-commands.
#include <iostream>
#include <map>

#include "cli/args.h"
#include "cli/commands.h"
#include "common/ids.h"

#ifndef CRM_VERSION
#define CRM_VERSION "0.0.0"
#endif

namespace crm::cli {

namespace {

struct Command {
  int (*run)(const std::vector<std::string>&);
  const char* summary;
  const char* usage;
};

const std::map<std::string, Command>& Commands() {
  static const std::map<std::string, Command> k = {
      {"serve", {RunServe, "HTTP server (REST /api, OpenAI-compatible /v1, web UI /) with in-process workers", "crm-ai serve"}},
      {"worker", {RunWorker, "job workers only (scale-out); SIGTERM finishes or hands back the running job", "crm-ai worker"}},
      {"migrate", {RunMigrate, "apply schema migrations (--status lists them)", "crm-ai migrate [--status] [--from-sqlite FILE]"}},
      {"seed", {RunSeed, "load demo data: 2 firms, users, clients, meetings (prints the logins)", "crm-ai seed [--if-empty] [--force]"}},
      {"doctor", {RunDoctor, "check database, storage, codecs, speech model and configured services", "crm-ai doctor [--strict]"}},
      {"backup", {RunBackup, "archive the database, files and key to $DATA_DIR/backups (--verify FILE checks one)", "crm-ai backup [--output DIR] [--keep-daily N] [--keep-weekly N] [--keep-monthly N] | backup --verify FILE (one archive per run, encrypted with BACKUP_PASSPHRASE when set; then keeps 7 daily, 4 weekly, 12 monthly archives; runs beside serve and workers)"}},
      {"restore", {RunRestore, "restore an archive of crm-ai backup into an empty DATA_DIR", "crm-ai restore FILE (DATA_DIR must be empty; the archive is verified as it is read and nothing is written unless all of it is sound; BACKUP_PASSPHRASE for an encrypted one)"}},
      {"transcribe", {RunTranscribe, "transcribe an audio/video file to stdout", "crm-ai transcribe FILE [--format txt|text|srt|vtt|json|verbose_json] [--language L] [--model M] [--threads N] [--beam-size N] [--no-fallback] [--prompt P] [--task transcribe|translate] [--word-timestamps] [--diarize] [--vad on|off] [--no-timestamps|--timestamps] (txt, text and json decode without timestamps unless --timestamps, --word-timestamps or --diarize)"}},
      {"diarize", {RunDiarize, "who spoke when, to stdout", "crm-ai diarize FILE [--format rttm|json] [--num-speakers N] [--min-speakers N] [--max-speakers N]"}},
      {"models", {RunModels, "list speech model files in $DATA_DIR/models; pull NAME downloads one", "crm-ai models [pull NAME]"}},
      {"firm", {RunFirm, "firms: create, list", "crm-ai firm create --name NAME | firm list"}},
      {"user", {RunUser, "users: create, list, reset-link", "crm-ai user create --firm ID --email EMAIL --role owner|admin|member --password-stdin | user create --platform-admin --email EMAIL --password-stdin | user list [--firm ID] | user reset-link --email EMAIL"}},
      {"apikey", {RunApiKey, "API keys: create (printed once), list, revoke", "crm-ai apikey create --firm ID --name NAME [--role admin|member] | apikey list --firm ID | apikey revoke --firm ID KEY_ID"}},
      {"help", {RunHelp, "this help, or one command's", "crm-ai help [COMMAND]"}},
  };
  return k;
}

}  // namespace

int RunHelp(const std::vector<std::string>& args) {
  if (!args.empty()) {
    auto it = Commands().find(args[0]);
    if (it == Commands().end()) return Fail("no command '" + args[0] + "' (see crm-ai help)");
    std::cout << it->second.summary << "\n\nusage: " << it->second.usage << "\n";
    return 0;
  }
  std::cout << "crm-ai " << CRM_VERSION << " — CRM for professional firms, with meeting transcription\n\n"
            << "usage: crm-ai COMMAND [OPTIONS]\n\ncommands:\n";
  for (auto& [name, c] : Commands()) std::cout << "  " << name << std::string(12 - name.size(), ' ') << c.summary << "\n";
  std::cout << "\nConfiguration comes from the environment and ./.env (see .env.example).\n";
  return 0;
}

int Dispatch(int argc, char** argv) {
  if (!InitCrypto()) return Fail("libsodium failed to initialise");
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    RunHelp({});
    return 2;
  }
  if (args[0] == "--version" || args[0] == "version") {
    std::cout << "crm-ai " << CRM_VERSION << "\n";
    return 0;
  }
  if (args[0] == "--help" || args[0] == "-h") return RunHelp({});
  auto it = Commands().find(args[0]);
  if (it == Commands().end()) return Fail("unknown command '" + args[0] + "' (see crm-ai help)", 2);
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (!rest.empty() && (rest[0] == "--help" || rest[0] == "-h")) return RunHelp({args[0]});
  try {
    return it->second.run(rest);
  } catch (const std::exception& e) {
    return Fail(std::string("internal error: ") + e.what());
  }
}

}  // namespace crm::cli
