// A thin RAII layer over the SQLite3 C API: one connection (Db), prepared statements (Stmt)
// and nesting transactions. Single-threaded: use a Db and its statements on one thread.
//
// Durability: a file database is opened in WAL mode with synchronous=NORMAL. A committed
// transaction survives the process being killed (kill -9 included), because the WAL write has
// reached the operating system; only a power loss or OS crash may lose the last transactions
// (SQLite syncs the WAL at checkpoints, not on every commit). That is the promise the outbox
// makes: "survives a process crash".
#pragma once

#include <concepts>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace nukihil::adapter {

struct DbError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The database file is owned by another open Db (in this process or another): see Db::Db.
struct DbInUse : DbError {
  using DbError::DbError;
};

class Db;

// A prepared statement; finalized on destruction. Movable, not copyable. Bind indexes and
// column numbers are SQLite's: parameters from 1, columns from 0.
class Stmt {
 public:
  Stmt() = default;
  Stmt(Stmt&& o) noexcept;
  Stmt& operator=(Stmt&& o) noexcept;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  // Binding to a statement that has been stepped resets it first (other bindings are kept),
  // so `stmt.bind(1, x).step()` can be repeated without an explicit reset().
  Stmt& bind(int index, int64_t v);
  Stmt& bind(int index, std::string_view v);  // copied by SQLite
  Stmt& bind(int index, double v);
  Stmt& bind(int index, const char* v) { return bind(index, std::string_view(v)); }
  template <std::integral T>
  Stmt& bind(int index, T v) {
    return bind(index, static_cast<int64_t>(v));
  }
  Stmt& bindNull(int index);

  // Runs the statement to its next row: true while a row is available, false once done.
  // Throws DbError on error (the statement is reset).
  bool step();
  int64_t int64(int col) const;
  double real(int col) const;
  std::string text(int col) const;  // "" for NULL
  bool isNull(int col) const;
  int columnCount() const;

  // Resets the statement and clears its bindings, ready to be bound and run again.
  void reset();

  sqlite3_stmt* handle() const { return stmt_; }
  explicit operator bool() const { return stmt_ != nullptr; }

 private:
  friend class Db;
  Stmt(Db* owner, sqlite3* db, sqlite3_stmt* stmt) : owner_(owner), db_(db), stmt_(stmt) {}
  void check(int rc, const char* what);
  void rewind();

  Db* owner_ = nullptr;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  bool stepped_ = false;
};

class Db {
 public:
  // Opens (creating if needed) the database at `path` (":memory:" for a private in-memory one)
  // with journal_mode=WAL, synchronous=NORMAL, foreign_keys=ON and a busy timeout. Throws
  // DbError saying which path and why if it cannot be opened or WAL cannot be enabled.
  //
  // One owner per file: a file database is first claimed with an exclusive flock(2) on
  // `<path>.lock` (created if missing, never deleted; it holds the owner's pid), released when
  // the Db is destroyed or the process dies (kill -9 included). If another Db holds it, this
  // throws DbInUse at once, naming the owner's pid, instead of waiting for SQLite's lock.
  explicit Db(const std::string& path);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs one or more SQL statements, discarding any rows.
  void exec(std::string_view sql);
  // Prepares exactly one statement (throws for none, or for text after the first).
  Stmt prepare(std::string_view sql);

  // BEGIN IMMEDIATE … COMMIT. Transactions nest: only the outermost one commits or rolls back.
  // Destroying an uncommitted one rolls back — the outermost at once; an inner one dooms the
  // whole transaction, whose commit() then rolls back and throws DbError.
  class Transaction {
   public:
    explicit Transaction(Db& db);
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit();
    ~Transaction();

   private:
    Db& db_;
    bool outermost_ = false;
    bool finished_ = false;
  };

  // True while a transaction is open (whether or not through Transaction).
  bool inTransaction() const;
  int64_t lastInsertRowid() const;
  int changes() const;  // rows changed by the last INSERT/UPDATE/DELETE
  const std::string& path() const { return path_; }
  sqlite3* handle() const { return db_; }

  // Runs `f` once the current Transaction has committed, or at once if none is open: for
  // in-memory state that must only follow data that is durable. Hooks run in registration
  // order. Throws DbError if a transaction was opened outside Transaction (plain BEGIN).
  void afterCommit(std::function<void()> f);
  // Runs `f` if the current Transaction rolls back; dropped if none is open or it commits.
  void afterRollback(std::function<void()> f);

 private:
  friend class Transaction;
  friend class Stmt;
  void finishOutermost(bool commit);
  // After a failed statement: SQLite rolls a transaction back by itself on some errors (a full
  // disk, I/O errors); the statements after it would then commit one by one. They are kept in a
  // new transaction, doomed, which the outermost Transaction rolls back and reports.
  void afterError();

  std::string path_;
  int lockFd_ = -1;  // <path>.lock, flock'ed while this Db lives
  sqlite3* db_ = nullptr;
  int depth_ = 0;        // open Transaction objects
  bool doomed_ = false;  // an inner transaction was abandoned
  std::vector<std::function<void()>> onCommit_;
  std::vector<std::function<void()>> onRollback_;
};

}  // namespace nukihil::adapter
