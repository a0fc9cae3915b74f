#include "scenarios/child_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>

namespace nukihil::scenarios {

ChildProcess::~ChildProcess() {
  if (pid_ > 0) stop(SIGTERM);
  if (out_) std::fclose(out_);
}

std::string ChildProcess::start(const std::vector<std::string>& argv) {
  if (argv.empty()) throw std::invalid_argument("no program to start");
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe() failed");
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork() failed");
  if (pid_ == 0) {
    ::dup2(fds[1], 1);
    ::close(fds[0]);
    ::close(fds[1]);
    std::vector<char*> args;
    for (const auto& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    std::perror(args[0]);
    ::_exit(127);
  }
  ::close(fds[1]);
  out_ = ::fdopen(fds[0], "r");
  char line[16384];
  if (!std::fgets(line, sizeof line, out_)) {
    stop(SIGKILL);
    throw std::runtime_error(argv[0] + " printed nothing and ended");
  }
  return line;
}

int ChildProcess::stop(int signal) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, signal);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

}  // namespace nukihil::scenarios
