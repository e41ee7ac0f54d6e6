// crm-ai: one executable, many roles (see `crm-ai help`).
#include "cli/commands.h"

int main(int argc, char** argv) { return crm::cli::Dispatch(argc, argv); }
