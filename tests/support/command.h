// Runs the built `mozaiek` binary (or any shell command) from a test and
// captures what it printed and how it exited.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace mozaiek::test {

struct CommandResult {
  int exit_code = -1;  // -1 when the command did not exit normally
  std::string output;  // stdout, plus stderr when the command redirects it
};

inline CommandResult run_command(const std::string& command) {
  CommandResult r;
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int status = ::pclose(p);
  if (status != -1 && WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  return r;
}

}  // namespace mozaiek::test
