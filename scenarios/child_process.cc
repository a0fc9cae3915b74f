#include "scenarios/child_process.h"

#include <sys/prctl.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <stdexcept>

namespace nukihil::scenarios {

using Steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

ChildProcess::~ChildProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    if (!wait(milliseconds(5000))) stop(SIGKILL);
  }
  closePipes();
}

void ChildProcess::closePipes() {
  if (outFd_ >= 0) ::close(outFd_);
  if (errFd_ >= 0) ::close(errFd_);
  outFd_ = errFd_ = -1;
}

void ChildProcess::spawn(const std::vector<std::string>& argv, Stderr stderrMode) {
  if (argv.empty()) throw std::invalid_argument("no program to start");
  if (pid_ > 0) throw std::logic_error("the process is already running");
  closePipes();
  out_.clear();
  err_.clear();
  int out[2] = {-1, -1}, err[2] = {-1, -1};
  if (::pipe2(out, O_CLOEXEC) != 0 ||
      (stderrMode == Stderr::kCapture && ::pipe2(err, O_CLOEXEC) != 0))
    throw std::runtime_error("pipe() failed");
  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork() failed");
  if (pid_ == 0) {
    // The child does not outlive us (a harness killed or interrupted twice leaves no adapter
    // running on a real account's token). The signal comes when the thread that spawned it
    // ends: spawn from a thread that outlives the child (the live runner stops its adapter
    // before its worker thread ends).
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    ::dup2(out[1], STDOUT_FILENO);
    if (err[1] >= 0) ::dup2(err[1], STDERR_FILENO);
    ::execvp(args[0], args.data());  // a bare name is looked up on PATH
    std::perror(args[0]);
    ::_exit(127);
  }
  ::close(out[1]);
  if (err[1] >= 0) ::close(err[1]);
  outFd_ = out[0];
  errFd_ = err[0];
}

std::string ChildProcess::start(const std::vector<std::string>& argv) {
  spawn(argv);
  auto line = firstLine(milliseconds(30000));
  if (!line) {
    stop(SIGKILL);
    throw std::runtime_error(argv[0] + " printed no start-up line");
  }
  return *line;
}

std::optional<std::string> ChildProcess::firstLine(milliseconds timeout) {
  const auto deadline = Steady::now() + timeout;
  while (out_.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Steady::now());
    if (outFd_ < 0 || left.count() <= 0) break;
    pump(left);
  }
  const auto end = out_.find('\n');
  if (end == std::string::npos) return std::nullopt;
  return out_.substr(0, end);
}

std::optional<ChildProcess::Exit> ChildProcess::wait(milliseconds timeout) {
  if (pid_ <= 0) return std::nullopt;
  const auto deadline = Steady::now() + timeout;
  for (;;) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      while (pump(milliseconds(50))) {
      }
      Exit e;
      e.exited = WIFEXITED(status);
      e.code = e.exited ? WEXITSTATUS(status) : WTERMSIG(status);
      return e;
    }
    if (Steady::now() >= deadline) return std::nullopt;
    pump(milliseconds(10));
  }
}

int ChildProcess::stop(int signal) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, signal);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

bool ChildProcess::pump(milliseconds timeout) {
  if (outFd_ < 0 && errFd_ < 0) return false;
  pollfd fds[2] = {{outFd_, POLLIN, 0}, {errFd_, POLLIN, 0}};
  if (::poll(fds, 2, int(timeout.count())) <= 0) return false;
  bool any = false;
  char buf[4096];
  for (int i = 0; i < 2; ++i) {
    if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
    int& fd = i == 0 ? outFd_ : errFd_;
    if (n > 0) {
      (i == 0 ? out_ : err_).append(buf, size_t(n));
      any = true;
    } else {
      ::close(fd);
      fd = -1;
    }
  }
  return any || outFd_ >= 0 || errFd_ >= 0;
}

}  // namespace nukihil::scenarios
