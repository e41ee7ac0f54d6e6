#include "cli/args.h"

#include <iostream>

namespace crm::cli {

Result<Args> ParseArgs(const std::vector<std::string>& argv, const std::set<std::string>& with_value,
                       const std::set<std::string>& flags) {
  Args a;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& s = argv[i];
    if (s.size() > 2 && s.rfind("--", 0) == 0) {
      std::string name = s.substr(2), value;
      bool inline_value = false;
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
        inline_value = true;
      }
      if (with_value.count(name)) {
        if (!inline_value) {
          if (i + 1 >= argv.size()) return InvalidArgument("option --" + name + " needs a value");
          value = argv[++i];
        }
        a.values[name] = value;
      } else if (flags.count(name) && !inline_value) {
        a.flags.insert(name);
      } else {
        return InvalidArgument("unknown option --" + name + " (see crm-ai help)");
      }
    } else {
      a.positional.push_back(s);
    }
  }
  return a;
}

int Fail(const std::string& message, int code) {
  std::cerr << "crm-ai: " << message << std::endl;
  return code;
}

}  // namespace crm::cli
