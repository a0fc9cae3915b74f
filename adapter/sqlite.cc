#include "adapter/sqlite.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>

#include "runtime/log.h"

namespace nukihil::adapter {

namespace {

// SQLITE_TRANSIENT is an old-style cast of -1 to a destructor pointer; spelled out here so
// the warning flags stay on.
const sqlite3_destructor_type kTransient =
    reinterpret_cast<sqlite3_destructor_type>(static_cast<intptr_t>(-1));

constexpr int kBusyTimeoutMs = 5000;

std::string errorText(sqlite3* db, int rc) {
  std::string out = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  out += " (";
  out += sqlite3_errstr(rc);
  out += ")";
  return out;
}

bool onlyWhitespaceOrComments(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c)) || c == ';') {
      ++i;
    } else if (s.substr(i, 2) == "--") {
      const auto nl = s.find('\n', i);
      i = nl == std::string_view::npos ? s.size() : nl + 1;
    } else if (s.substr(i, 2) == "/*") {
      const auto end = s.find("*/", i + 2);
      i = end == std::string_view::npos ? s.size() : end + 2;
    } else {
      return false;
    }
  }
  return true;
}

// Claims `<path>.lock` for this process: the fd holding the flock, or throws.
int claimLockFile(const std::string& path) {
  const std::string lockPath = path + ".lock";
  const int fd = ::open(lockPath.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    throw DbError("cannot open database '" + path + "': cannot open its lock file " + lockPath +
                  ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    char buf[32] = {};
    const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    ::close(fd);
    if (err == EWOULDBLOCK) {
      std::string owner(buf, n > 0 ? size_t(n) : 0);
      while (!owner.empty() && (owner.back() == '\n' || owner.back() == ' '))
        owner.pop_back();
      throw DbInUse("the database '" + path + "' is in use by another nuki-adapter" +
                    (owner.empty() ? std::string() : " (pid " + owner + ")") +
                    ": one adapter owns a database file (lock file " + lockPath + ")");
    }
    throw DbError("cannot open database '" + path + "': cannot lock " + lockPath + ": " +
                  std::strerror(err));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // The pid is only for the message of a refused second owner; the lock itself holds.
  }
  return fd;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Stmt

Stmt::Stmt(Stmt&& o) noexcept
    : owner_(std::exchange(o.owner_, nullptr)),
      db_(std::exchange(o.db_, nullptr)),
      stmt_(std::exchange(o.stmt_, nullptr)),
      stepped_(std::exchange(o.stepped_, false)) {}

Stmt& Stmt::operator=(Stmt&& o) noexcept {
  if (this != &o) {
    if (stmt_) sqlite3_finalize(stmt_);
    owner_ = std::exchange(o.owner_, nullptr);
    db_ = std::exchange(o.db_, nullptr);
    stmt_ = std::exchange(o.stmt_, nullptr);
    stepped_ = std::exchange(o.stepped_, false);
  }
  return *this;
}

Stmt::~Stmt() {
  if (stmt_) sqlite3_finalize(stmt_);
}

void Stmt::rewind() {
  if (!stmt_) throw DbError("sqlite: bind on an empty statement");
  if (stepped_) {
    sqlite3_reset(stmt_);
    stepped_ = false;
  }
}

void Stmt::check(int rc, const char* what) {
  if (rc == SQLITE_OK) return;
  std::string msg = std::string("sqlite: ") + what + ": " + errorText(db_, rc);
  if (stmt_) {
    if (const char* sql = sqlite3_sql(stmt_)) msg += " in: " + std::string(sql);
  }
  throw DbError(msg);
}

Stmt& Stmt::bind(int index, int64_t v) {
  rewind();
  check(sqlite3_bind_int64(stmt_, index, v), "bind");
  return *this;
}

Stmt& Stmt::bind(int index, std::string_view v) {
  rewind();
  // A non-null pointer even for an empty view, so the value is '' and not NULL.
  static const char kEmpty[] = "";
  const char* data = v.data() ? v.data() : kEmpty;
  check(sqlite3_bind_text64(stmt_, index, data, v.size(), kTransient, SQLITE_UTF8), "bind");
  return *this;
}

Stmt& Stmt::bind(int index, double v) {
  rewind();
  check(sqlite3_bind_double(stmt_, index, v), "bind");
  return *this;
}

Stmt& Stmt::bindNull(int index) {
  rewind();
  check(sqlite3_bind_null(stmt_, index), "bind");
  return *this;
}

bool Stmt::step() {
  if (!stmt_) throw DbError("sqlite: step on an empty statement");
  stepped_ = true;
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  std::string msg = "sqlite: step: " + errorText(db_, rc);
  if (const char* sql = sqlite3_sql(stmt_)) msg += " in: " + std::string(sql);
  sqlite3_reset(stmt_);
  stepped_ = false;
  if (owner_) owner_->afterError();
  throw DbError(msg);
}

int64_t Stmt::int64(int col) const {
  return sqlite3_column_int64(stmt_, col);
}

double Stmt::real(int col) const {
  return sqlite3_column_double(stmt_, col);
}

std::string Stmt::text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  if (!p) return {};
  const int n = sqlite3_column_bytes(stmt_, col);
  return std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
}

bool Stmt::isNull(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

int Stmt::columnCount() const {
  return sqlite3_column_count(stmt_);
}

void Stmt::reset() {
  if (!stmt_) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  stepped_ = false;
}

// ---------------------------------------------------------------------------------------------
// Db

Db::Db(const std::string& path) : path_(path) {
  const bool file = !path.empty() && path != ":memory:" && path.rfind("file:", 0) != 0;
  if (file) lockFd_ = claimLockFile(path);
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    const std::string why = errorText(db_, rc);
    sqlite3_close(db_);
    db_ = nullptr;
    if (lockFd_ >= 0) ::close(lockFd_);
    throw DbError("cannot open database '" + path + "': " + why);
  }
  sqlite3_extended_result_codes(db_, 1);
  try {
    sqlite3_busy_timeout(db_, kBusyTimeoutMs);
    // One process owns the database: no file locks per transaction, no shared-memory index,
    // and a second adapter on the same file is refused (busy) instead of interleaving.
    exec("PRAGMA locking_mode=EXCLUSIVE;");
    std::string mode;
    {
      Stmt s = prepare("PRAGMA journal_mode=WAL");
      if (s.step()) mode = s.text(0);
    }
    // In-memory and temporary databases have no WAL; everything else must get one.
    const bool memory = mode == "memory" || path.empty();
    if (mode != "wal" && !memory)
      throw DbError("cannot enable WAL journal mode (got '" + mode + "')");
    exec("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
  } catch (const DbError& e) {
    sqlite3_close(db_);
    db_ = nullptr;
    if (lockFd_ >= 0) ::close(lockFd_);
    throw DbError("cannot open database '" + path + "': " + e.what());
  }
}

Db::~Db() {
  if (db_) {
    if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    // Statements still alive elsewhere keep the connection open until they are finalized.
    sqlite3_close_v2(db_);
  }
  // Never unlinked: a process that opened the old file could then lock it beside a new one.
  if (lockFd_ >= 0) ::close(lockFd_);
}

void Db::exec(std::string_view sql) {
  const std::string text(sql);
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = "sqlite: exec: ";
    msg += err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    msg += " in: " + text;
    afterError();
    throw DbError(msg);
  }
}

void Db::afterError() {
  if (depth_ > 0 && sqlite3_get_autocommit(db_)) {
    doomed_ = true;
    sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
  }
}

Stmt Db::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    throw DbError("sqlite: prepare: " + errorText(db_, rc) + " in: " + std::string(sql));
  }
  if (!stmt) throw DbError("sqlite: prepare: no statement in: " + std::string(sql));
  Stmt out(this, db_, stmt);
  const size_t used = tail ? static_cast<size_t>(tail - sql.data()) : sql.size();
  if (!onlyWhitespaceOrComments(sql.substr(used)))
    throw DbError("sqlite: prepare takes one statement: " + std::string(sql));
  return out;
}

bool Db::inTransaction() const {
  return sqlite3_get_autocommit(db_) == 0;
}

int64_t Db::lastInsertRowid() const {
  return sqlite3_last_insert_rowid(db_);
}

int Db::changes() const {
  return sqlite3_changes(db_);
}

void Db::afterCommit(std::function<void()> f) {
  if (depth_ == 0) {
    if (inTransaction())
      throw DbError("sqlite: a transaction opened outside Db::Transaction is in progress");
    f();
    return;
  }
  onCommit_.push_back(std::move(f));
}

void Db::afterRollback(std::function<void()> f) {
  if (depth_ == 0) return;
  onRollback_.push_back(std::move(f));
}

void Db::finishOutermost(bool commit) {
  auto committed = std::exchange(onCommit_, {});
  auto rolledBack = std::exchange(onRollback_, {});
  const bool doomed = std::exchange(doomed_, false);
  if (commit && !doomed) {
    const int rc = sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) {
      // What is durable stays so: a hook that throws is a bug of its own, logged, and the
      // hooks after it still run (their answers would otherwise never leave).
      for (auto& f : committed) {
        try {
          f();
        } catch (const std::exception& e) {
          log::error(std::string("sqlite: a hook after a commit failed: ") + e.what());
        }
      }
      return;
    }
    const std::string why = errorText(db_, rc);
    if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    for (auto& f : rolledBack)
      f();
    throw DbError("sqlite: commit failed, rolled back: " + why);
  }
  if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  for (auto& f : rolledBack)
    f();
  if (commit) throw DbError("sqlite: transaction rolled back: an inner transaction was abandoned");
}

// ---------------------------------------------------------------------------------------------
// Transaction

Db::Transaction::Transaction(Db& db) : db_(db) {
  if (db_.depth_ == 0) {
    if (db_.inTransaction())
      throw DbError("sqlite: a transaction opened outside Db::Transaction is in progress");
    db_.exec("BEGIN IMMEDIATE");
    db_.doomed_ = false;
    outermost_ = true;
  }
  ++db_.depth_;
}

void Db::Transaction::commit() {
  if (finished_) throw DbError("sqlite: transaction already finished");
  finished_ = true;
  --db_.depth_;
  if (outermost_) db_.finishOutermost(true);
}

Db::Transaction::~Transaction() {
  if (finished_) return;
  --db_.depth_;
  if (outermost_) {
    try {
      db_.finishOutermost(false);
    } catch (...) {  // a rollback hook threw; nothing sensible to do in a destructor
    }
  } else {
    db_.doomed_ = true;
  }
}

}  // namespace nukihil::adapter
