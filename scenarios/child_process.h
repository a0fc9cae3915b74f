// Starting the project's own binaries as child processes, as a user would (remote mode,
// benchmarks, tests): stdout on a pipe whose first line is the tool's start-up JSON.
#pragma once

#include <sys/types.h>

#include <cstdio>
#include <string>
#include <vector>

namespace nukihil::scenarios {

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();  // SIGTERM, then waits
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts argv[0] with the given arguments (environment inherited) and returns the first line
  // it prints on stdout; throws std::runtime_error if it prints none (its stderr passes through).
  std::string start(const std::vector<std::string>& argv);
  // Sends `signal` and waits for the process; returns its exit status as waitpid reports it.
  int stop(int signal);
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
};

}  // namespace nukihil::scenarios
