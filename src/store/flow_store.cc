#include "store/flow_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <limits>
#include <unordered_map>
#include <utility>

#include "base/files.h"
#include "store/flow_store_format.h"

namespace moat::store {
namespace {

constexpr int32_t kApplicationId = 0x6d6f6174;  // "moat" in the SQLite header
constexpr int kSchemaVersion = 3;               // PRAGMA user_version; flow_store_format.h
constexpr int kCacheKiB = 64 * 1024;            // page cache per connection
constexpr int64_t kMmapBytes = int64_t{1} << 31;
constexpr int64_t kWalLimitBytes = 64 << 20;  // the WAL is cut back to this after a checkpoint
constexpr uint64_t kProgressEvery = 1 << 16;  // rows between two progress calls
constexpr int kBatch = 64;                    // rows per INSERT statement: fewer steps, binds and seeks

// flows: one row per flow key (with its place and interface) and UTC day of its `last`; key and
// value are flow_store_format.h. The primary key keeps a key's days together, so Load sums them in
// one pass. Pages are SQLite's default 4 KiB: as fast to scan as 16 KiB ones, and a flow added to a
// big store rewrites less. places: the accounts and regions flows were logged in
// ("<account>/<region>"), and interfaces: the network interfaces that logged them ("eni-..."), by
// the ids their keys carry. Version 1 had neither, version 2 no interfaces; opening one to write
// adds the missing tables.
constexpr const char* kSchema = R"sql(
PRAGMA page_size = 4096;
CREATE TABLE runs(id INTEGER PRIMARY KEY, time INTEGER NOT NULL, command TEXT NOT NULL,
                  flows INTEGER NOT NULL DEFAULT 0);
CREATE TABLE objects(name TEXT NOT NULL, size INTEGER NOT NULL, version TEXT NOT NULL, run INTEGER NOT NULL,
                     PRIMARY KEY(name, size, version)) WITHOUT ROWID;
CREATE TABLE flows(key BLOB NOT NULL, day INTEGER NOT NULL, value BLOB NOT NULL,
                   PRIMARY KEY(key, day)) WITHOUT ROWID;
CREATE TABLE places(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE interfaces(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
PRAGMA application_id = 1836015988;
PRAGMA user_version = 3;
)sql";
static_assert(kApplicationId == 1836015988 && kSchemaVersion == 3, "kSchema repeats them");
constexpr const char* kUpgrade = R"sql(
CREATE TABLE IF NOT EXISTS places(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS interfaces(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
PRAGMA user_version = 3;
)sql";

// The upsert of `rows` flows; moat_merge adds a value to the one in the row (MergeValues).
std::string UpsertSql(int rows) {
  std::string sql = "INSERT INTO flows(key, day, value) VALUES(?, ?, ?)";
  for (int i = 1; i < rows; ++i) sql += ", (?, ?, ?)";
  return sql + " ON CONFLICT(key, day) DO UPDATE SET value = moat_merge(value, excluded.value)";
}

void MergeFunction(sqlite3_context* ctx, int, sqlite3_value** args) {
  const auto* a = static_cast<const uint8_t*>(sqlite3_value_blob(args[0]));
  const auto a_size = static_cast<size_t>(sqlite3_value_bytes(args[0]));
  const auto* b = static_cast<const uint8_t*>(sqlite3_value_blob(args[1]));
  const auto b_size = static_cast<size_t>(sqlite3_value_bytes(args[1]));
  const std::optional<PackedValue> v = MergeValues(a, a_size, b, b_size);
  if (!v) return sqlite3_result_error(ctx, "a damaged flow value", -1);
  sqlite3_result_blob(ctx, v->bytes, v->size, SQLITE_TRANSIENT);
}

ErrorCode CodeOf(int rc) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return ErrorCode::kTransient;
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
      return ErrorCode::kDenied;
    case SQLITE_CANTOPEN:
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
    case SQLITE_FULL:
    case SQLITE_IOERR:
      return ErrorCode::kInvalidInput;  // the file or the disk: report, do not retry
    default:
      return ErrorCode::kInternal;
  }
}

// A transaction that rolls back unless committed.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) {}
  ~Transaction() {
    if (open_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  int Begin(const char* sql) {
    const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
    open_ = rc == SQLITE_OK;
    return rc;
  }
  int Commit() {
    const int rc = sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) open_ = false;
    return rc;
  }

 private:
  sqlite3* db_;
  bool open_ = false;
};

// What a file holds, from its header and schema.
enum class Kind { kEmpty, kStore, kNewer, kOther };

int Inspect(sqlite3* db, Kind* kind, int64_t* schema = nullptr) {
  int64_t id = 0, version = 0, objects = 0;
  const auto one = [db](const char* sql, int64_t* out) {
    sqlite3_stmt* s = nullptr;
    int rc = sqlite3_prepare_v2(db, sql, -1, &s, nullptr);
    if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
      *out = sqlite3_column_int64(s, 0);
      rc = SQLITE_OK;
    }
    sqlite3_finalize(s);
    return rc;
  };
  int rc = one("PRAGMA application_id", &id);
  if (rc == SQLITE_OK) rc = one("PRAGMA user_version", &version);
  if (rc == SQLITE_OK) rc = one("SELECT count(*) FROM sqlite_schema", &objects);
  if (rc != SQLITE_OK) return rc;
  if (id == 0 && version == 0 && objects == 0) {
    *kind = Kind::kEmpty;
  } else if (id != kApplicationId || version < 1) {
    *kind = Kind::kOther;
  } else {
    *kind = version > kSchemaVersion ? Kind::kNewer : Kind::kStore;
  }
  if (schema != nullptr) *schema = version;
  return SQLITE_OK;
}

// The SQLite URI of a file path with `query` ("mode=ro"): '?', '#' and '%' escaped.
std::string FileUri(const std::string& path, std::string_view query) {
  std::string uri = path.starts_with('/') ? "file://" : "file:";
  for (const char c : path) {
    if (c == '?' || c == '#' || c == '%') {
      static constexpr char kHex[] = "0123456789ABCDEF";
      uri += '%';
      uri += kHex[static_cast<unsigned char>(c) >> 4];
      uri += kHex[static_cast<unsigned char>(c) & 0xf];
    } else {
      uri += c;
    }
  }
  return uri + "?" + std::string(query);
}

}  // namespace

void FlowStore::Closer::operator()(sqlite3* db) const { sqlite3_close_v2(db); }
void FlowStore::Closer::operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }

FlowStore::FlowStore(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}
FlowStore::~FlowStore() = default;

Error FlowStore::Failure(std::string_view what) const {
  const int rc = db_ ? sqlite3_extended_errcode(db_.get()) : SQLITE_NOMEM;
  const char* why = db_ ? sqlite3_errmsg(db_.get()) : "out of memory";
  return Error{CodeOf(rc), path_ + ": " + std::string(what) + ": " + why};
}

Result<std::unique_ptr<FlowStore>> FlowStore::Open(const std::string& path) {
  if (Status s = MakeDirectories(std::filesystem::path(path).parent_path()); !s) {
    return Fail(std::move(s).error().Context(path));
  }
  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<FlowStore> store(new FlowStore(path, db));
  if (rc != SQLITE_OK) return Fail(store->Failure("cannot open"));
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  if (Status s = store->Initialize(); !s) return Fail(std::move(s).error());
  return store;
}

Result<std::unique_ptr<FlowStore>> FlowStore::OpenReadOnly(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return Fail(NotFound(path + ": no flow history"));
  // With locks first; "immutable" only where SQLite cannot make the -shm it locks in.
  for (const char* query : {"mode=ro", "immutable=1"}) {
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(FileUri(path, query).c_str(), &db,
                                   SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, nullptr);
    std::unique_ptr<FlowStore> store(new FlowStore(path, db));
    if (rc != SQLITE_OK) return Fail(store->Failure("cannot open"));
    Kind kind;
    if (const int irc = Inspect(db, &kind, &store->schema_); irc != SQLITE_OK) {
      const int primary = irc & 0xff;
      if ((primary == SQLITE_READONLY || primary == SQLITE_CANTOPEN) && query[0] == 'm') continue;
      return Fail(store->Failure(primary == SQLITE_NOTADB ? "not a moat flow store" : "cannot read"));
    }
    if (kind == Kind::kEmpty) return Fail(NotFound(path + ": no flow history (an empty file)"));
    if (kind == Kind::kOther) {
      return Fail(InvalidInput(path + ": not a moat flow store (an SQLite database of something else)"));
    }
    if (kind == Kind::kNewer) {
      return Fail(InvalidInput(path + ": written by a newer moat (its flow store schema is newer than version " +
                               std::to_string(kSchemaVersion) + ")"));
    }
    if (Status s = store->SetUp(true); !s) return Fail(std::move(s).error());
    return store;
  }
  return Fail(Internal(path + ": cannot open read-only"));  // the loop returns
}

// Checks what the file is before writing anything to it, creates the schema in an empty file
// (once, should several processes race), then sets the connection up.
Status FlowStore::Initialize() {
  sqlite3* db = db_.get();
  Kind kind;
  if (int rc = Inspect(db, &kind); rc != SQLITE_OK) {
    return Fail(Failure(rc == SQLITE_NOTADB ? "not a moat flow store" : "cannot read"));
  }
  if (kind == Kind::kEmpty) {
    Transaction create(db);
    if (create.Begin("BEGIN IMMEDIATE") != SQLITE_OK) return Fail(Failure("cannot create the flow store"));
    if (Inspect(db, &kind) != SQLITE_OK) return Fail(Failure("cannot read"));
    if (kind == Kind::kEmpty) {
      if (sqlite3_exec(db, kSchema, nullptr, nullptr, nullptr) != SQLITE_OK || create.Commit() != SQLITE_OK) {
        return Fail(Failure("cannot create the flow store"));
      }
      kind = Kind::kStore;
    }
  }
  if (kind == Kind::kOther) {
    return Fail(InvalidInput(path_ + ": not a moat flow store (an SQLite database of something else)"));
  }
  if (kind == Kind::kNewer) {
    return Fail(InvalidInput(path_ + ": written by a newer moat (its flow store schema is newer than version " +
                             std::to_string(kSchemaVersion) + ")"));
  }
  if (Status s = Upgrade(); !s) return s;
  return SetUp(false);
}

// A version 1 or 2 store gains the tables it lacks (its flows keep no place or no interface).
Status FlowStore::Upgrade() {
  sqlite3* db = db_.get();
  Kind kind;
  if (Inspect(db, &kind, &schema_) != SQLITE_OK) return Fail(Failure("cannot read"));
  if (schema_ == kSchemaVersion) return {};
  Transaction upgrade(db);
  if (upgrade.Begin("BEGIN IMMEDIATE") != SQLITE_OK || Inspect(db, &kind, &schema_) != SQLITE_OK) {
    return Fail(Failure("cannot upgrade the flow store"));
  }
  if (schema_ < kSchemaVersion) {
    if (sqlite3_exec(db, kUpgrade, nullptr, nullptr, nullptr) != SQLITE_OK || upgrade.Commit() != SQLITE_OK) {
      return Fail(Failure("cannot upgrade the flow store"));
    }
    schema_ = kSchemaVersion;
  }
  return {};
}

// The connection's settings; the file's (WAL) only when it may be written.
Status FlowStore::SetUp(bool read_only) {
  std::string setup =
      "PRAGMA cache_size = -" + std::to_string(kCacheKiB) + "; PRAGMA mmap_size = " + std::to_string(kMmapBytes) + ";";
  if (!read_only) {
    setup += "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA journal_size_limit = " +
             std::to_string(kWalLimitBytes);
  }
  if (sqlite3_exec(db_.get(), setup.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    return Fail(Failure("cannot set up"));
  }
  return Prepare();
}

Status FlowStore::Prepare() {
  const auto prepare = [this](const std::string& sql, Statement* out) {
    sqlite3_stmt* s = nullptr;
    const int rc = sqlite3_prepare_v3(db_.get(), sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
    out->reset(s);
    return rc == SQLITE_OK;
  };
  if (sqlite3_create_function_v2(db_.get(), "moat_merge", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY,
                                 nullptr, MergeFunction, nullptr, nullptr, nullptr) != SQLITE_OK ||
      !prepare(UpsertSql(1), &upsert_one_) || !prepare(UpsertSql(kBatch), &upsert_batch_) ||
      !prepare("INSERT INTO objects(name, size, version, run) VALUES(?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
               &mark_object_) ||
      !prepare("SELECT 1 FROM objects WHERE name = ?1 AND size = ?2 AND version = ?3", &recorded_) ||
      !prepare("UPDATE runs SET flows = flows + ?2 WHERE id = ?1", &count_run_)) {
    return Fail(Failure("not a moat flow store"));
  }
  // A store of an older version read as it is lacks the newer tables (and has no flow that names them).
  for (NameTable* t : {&places_, &interfaces_}) {
    if (schema_ < t->since) continue;
    const std::string table = t->table;
    if (!prepare("INSERT INTO " + table + "(name) VALUES(?1) ON CONFLICT(name) DO NOTHING", &t->add) ||
        !prepare("SELECT id FROM " + table + " WHERE name = ?1", &t->id)) {
      return Fail(Failure("not a moat flow store"));
    }
  }
  return {};
}

Result<int64_t> FlowStore::BeginRun(int64_t now, std::string_view command) {
  Statement s;
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db_.get(), "INSERT INTO runs(time, command) VALUES(?1, ?2)", -1, &raw, nullptr);
  s.reset(raw);
  if (rc == SQLITE_OK) {
    sqlite3_bind_int64(raw, 1, now);
    sqlite3_bind_text(raw, 2, command.data(), static_cast<int>(command.size()), SQLITE_STATIC);
    rc = sqlite3_step(raw);
  }
  if (rc != SQLITE_DONE) return Fail(Failure("cannot start a run"));
  return sqlite3_last_insert_rowid(db_.get());
}

void FlowStore::BindObject(sqlite3_stmt* s, const ObjectMark& object) {
  sqlite3_bind_text(s, 1, object.name.data(), static_cast<int>(object.name.size()), SQLITE_STATIC);
  sqlite3_bind_int64(s, 2, static_cast<int64_t>(object.size));
  sqlite3_bind_text(s, 3, object.version.data(), static_cast<int>(object.version.size()), SQLITE_STATIC);
}

Result<bool> FlowStore::Recorded(const ObjectMark& object) {
  sqlite3_stmt* s = recorded_.get();
  sqlite3_reset(s);
  BindObject(s, object);
  const int rc = sqlite3_step(s);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Fail(Failure("reading " + object.name));
  sqlite3_reset(s);
  return rc == SQLITE_ROW;
}

namespace {

// Why `places` cannot be the places of `flows` flows; empty when it can.
std::string Misfit(const FlowPlaces& places, size_t flows) {
  const auto count = [flows](const std::vector<uint32_t>& of, const char* what) {
    if (of.empty() || of.size() == flows) return std::string();
    return std::string(what) + " for " + std::to_string(of.size()) + " of " + std::to_string(flows) + " flows";
  };
  const auto range = [](const std::vector<uint32_t>& of, size_t names, const char* what) {
    for (size_t i = 0; i < of.size(); ++i) {
      if (of[i] >= names) {
        return "flow " + std::to_string(i) + ": " + what + " " + std::to_string(of[i]) + " of " + std::to_string(names);
      }
    }
    return std::string();
  };
  for (const std::string& why : {count(places.of, "places"), count(places.interface_of, "interfaces"),
                                 range(places.of, places.names.size(), "place"),
                                 range(places.interface_of, places.interfaces.size(), "interface")}) {
    if (!why.empty()) return why;
  }
  return {};
}

}  // namespace

Status FlowStore::Record(int64_t run, std::span<const ObjectMark> objects, std::span<const Flow> flows,
                         const traffic::FlowPlaces& places) {
  const std::string what =
      "recording " + (objects.size() == 1 ? objects[0].name : std::to_string(objects.size()) + " objects");
  if (const std::string why = Misfit(places, flows.size()); !why.empty()) {
    return Fail(Internal(path_ + ": " + what + ": " + why));
  }
  Transaction txn(db_.get());
  if (txn.Begin("BEGIN IMMEDIATE") != SQLITE_OK) return Fail(Failure(what));
  sqlite3_stmt* mark = mark_object_.get();
  for (const ObjectMark& object : objects) {
    sqlite3_reset(mark);
    BindObject(mark, object);
    sqlite3_bind_int64(mark, 4, run);
    if (sqlite3_step(mark) != SQLITE_DONE) return Fail(Failure(what));
    if (sqlite3_changes(db_.get()) == 0) {
      return Fail(Error{ErrorCode::kConflict, path_ + ": " + object.name + ": already recorded"});
    }
  }
  sqlite3_stmt* count = count_run_.get();
  sqlite3_reset(count);
  sqlite3_bind_int64(count, 1, run);
  sqlite3_bind_int64(count, 2, static_cast<int64_t>(flows.size()));
  if (sqlite3_step(count) != SQLITE_DONE) return Fail(Failure(what));
  if (sqlite3_changes(db_.get()) == 0) return Fail(Internal(path_ + ": " + what + ": no run " + std::to_string(run)));
  auto place_ids = NameIds(places_, places.names);
  if (!place_ids) return Fail(std::move(place_ids).error().Context(what));
  auto interface_ids = NameIds(interfaces_, places.interfaces);
  if (!interface_ids) return Fail(std::move(interface_ids).error().Context(what));
  if (!UpsertFlows(run, flows, places, *place_ids, *interface_ids) || txn.Commit() != SQLITE_OK) {
    return Fail(Failure(what));
  }
  return {};
}

// Each name gets its id here (the same name, the same id, in every run); "" is none, id 0.
Result<std::vector<uint32_t>> FlowStore::NameIds(NameTable& table, const std::vector<std::string>& names) {
  std::vector<uint32_t> ids(names.size(), 0);
  for (size_t i = 1; i < names.size(); ++i) {
    if (names[i].empty()) continue;
    auto id = NameId(table, names[i]);
    if (!id) return Fail(std::move(id).error());
    ids[i] = *id;
  }
  return ids;
}

Result<uint32_t> FlowStore::NameId(NameTable& table, const std::string& name) {
  if (!table.add) {
    return Fail(Error{ErrorCode::kDenied, path_ + ": a version " + std::to_string(schema_) +
                                              " flow store read as it is keeps no " + table.what});
  }
  for (sqlite3_stmt* s : {table.add.get(), table.id.get()}) {
    sqlite3_reset(s);
    sqlite3_bind_text(s, 1, name.data(), static_cast<int>(name.size()), SQLITE_STATIC);
  }
  if (sqlite3_step(table.add.get()) != SQLITE_DONE || sqlite3_step(table.id.get()) != SQLITE_ROW) {
    return Fail(Failure(std::string(table.what) + " " + name));
  }
  const int64_t id = sqlite3_column_int64(table.id.get(), 0);
  sqlite3_reset(table.id.get());
  if (id <= 0 || id > int64_t{UINT32_MAX}) {
    return Fail(InvalidInput(path_ + ": " + table.what + " " + name + ": a damaged id"));
  }
  return static_cast<uint32_t>(id);
}

// Upserts in key order, kBatch rows a statement: neighbouring flows share pages, so each page is
// read and written once. Sorts small rows by place and interface id, then on the first 16 bytes of
// the key without them (all of an IPv4 key): the order of the packed keys (flow_store_format.h).
bool FlowStore::UpsertFlows(int64_t run, std::span<const Flow> flows, const traffic::FlowPlaces& places,
                            const std::vector<uint32_t>& place_ids, const std::vector<uint32_t>& interface_ids) {
  struct Row {
    uint32_t place, interface;
    uint64_t hi, lo;
    int64_t day;
    const Flow* flow;
  };
  std::vector<Row> rows(flows.size());
  for (size_t i = 0; i < flows.size(); ++i) {
    Row& r = rows[i];
    r.place = places.of.empty() ? 0 : place_ids[places.of[i]];
    r.interface = interface_ids[places.InterfaceOf(i)];
    KeyPrefix(PackKey(flows[i].key), &r.hi, &r.lo);
    r.day = DayOf(flows[i].counts.last);
    r.flow = &flows[i];
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    if (a.place != b.place) return a.place < b.place;
    if (a.interface != b.interface) return a.interface < b.interface;
    if (a.hi != b.hi) return a.hi < b.hi;
    if (a.lo != b.lo) return a.lo < b.lo;
    if (const int c = CompareKeys(PackKey(a.flow->key), PackKey(b.flow->key)); c != 0) return c < 0;
    return a.day < b.day;
  });
  PackedKey keys[kBatch];
  PackedValue values[kBatch];
  for (size_t at = 0; at < rows.size();) {
    const size_t n = rows.size() - at >= kBatch ? kBatch : 1;
    for (size_t i = at + n; i < std::min(at + 2 * n, rows.size()); ++i) __builtin_prefetch(rows[i].flow);
    sqlite3_stmt* s = n == kBatch ? upsert_batch_.get() : upsert_one_.get();
    sqlite3_reset(s);
    for (size_t i = 0; i < n; ++i) {
      const Row& r = rows[at + i];
      keys[i] = PackKey(r.flow->key, r.place, r.interface);
      values[i] = PackValue({r.flow->counts, run}, r.day);
      const int p = static_cast<int>(3 * i);
      sqlite3_bind_blob(s, p + 1, keys[i].bytes, keys[i].size, SQLITE_STATIC);
      sqlite3_bind_int64(s, p + 2, r.day);
      sqlite3_bind_blob(s, p + 3, values[i].bytes, values[i].size, SQLITE_STATIC);
    }
    if (sqlite3_step(s) != SQLITE_DONE) return false;
    at += n;
  }
  return true;
}

Result<int64_t> FlowStore::QueryInt(const char* sql) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db_.get(), sql, -1, &raw, nullptr);
  const Statement s(raw);
  if (rc == SQLITE_OK) rc = sqlite3_step(raw);
  if (rc != SQLITE_ROW) return Fail(Failure("reading"));
  return sqlite3_column_int64(raw, 0);
}

namespace {

// One key's rows, summed as Load reads them.
struct KeyRows {
  uint8_t bytes[PackedKey::kMaxSize];
  int size = -1;
  FlowCounts counts;
  bool in_window = false;
  int64_t first_run = std::numeric_limits<int64_t>::max();
};

// The names of a table (places, interfaces) by id, each appended to `out` (a FlowPlaces' names or
// interfaces) when a flow first names it. REQUIRES: `out` outlives it.
class NameIndex {
 public:
  explicit NameIndex(std::vector<std::string>* out) : out_(out) {}
  void Add(uint32_t id, std::string name) { names_[id] = {std::move(name), 0}; }
  // The index in `out` of the name of `id` (0: none, index 0); nullopt when the table has no `id`.
  std::optional<uint32_t> IndexOf(uint32_t id) {
    if (id == 0) return 0;
    const auto it = names_.find(id);
    if (it == names_.end()) return std::nullopt;
    auto& [name, index] = it->second;
    if (index == 0) {
      index = static_cast<uint32_t>(out_->size());
      out_->push_back(name);
    }
    return index;
  }

 private:
  std::unordered_map<uint32_t, std::pair<std::string, uint32_t>> names_;
  std::vector<std::string>* out_;
};

// Reads the names of `table` into `index`; SQLITE_DONE when all are read.
int ReadNames(sqlite3* db, const char* table, NameIndex* index) {
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v2(db, (std::string("SELECT id, name FROM ") + table).c_str(), -1, &s, nullptr);
  while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    const auto* name = reinterpret_cast<const char*>(sqlite3_column_text(s, 1));
    index->Add(static_cast<uint32_t>(sqlite3_column_int64(s, 0)), name != nullptr ? name : "");
    rc = SQLITE_OK;
  }
  sqlite3_finalize(s);
  return rc;
}

}  // namespace

// One pass over the primary key: a key's days are adjacent, so they are summed without a lookup.
Result<LoadedFlows> FlowStore::Load(int64_t since, const LoadProgress& progress) {
  Transaction snapshot(db_.get());  // the reads see the same data
  if (snapshot.Begin("BEGIN") != SQLITE_OK) return Fail(Failure("loading"));
  const Result<int64_t> latest = QueryInt("SELECT coalesce(max(id), 0) FROM runs WHERE flows > 0");
  if (!latest) return Fail(latest.error());
  const Result<int64_t> total = QueryInt("SELECT count(*) FROM flows");
  if (!total) return Fail(total.error());
  LoadedFlows out;
  NameIndex places(&out.places.names), interfaces(&out.places.interfaces);
  for (const auto& [table, index] : {std::pair{&places_, &places}, std::pair{&interfaces_, &interfaces}}) {
    if (schema_ >= table->since && ReadNames(db_.get(), table->table, index) != SQLITE_DONE) {
      return Fail(Failure(std::string("loading the ") + table->table));
    }
  }
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v2(db_.get(), "SELECT key, day, value FROM flows ORDER BY key, day", -1, &s, nullptr);
  const Statement scan(s);
  if (rc != SQLITE_OK) return Fail(Failure("loading"));

  out.flows.reserve(static_cast<size_t>(*total));
  out.is_new.reserve(static_cast<size_t>(*total));
  out.places.of.reserve(static_cast<size_t>(*total));
  KeyRows key;
  FlowCounts all;  // every row: the history's span
  const auto flush = [&] {
    if (key.size < 0) return true;
    ++out.recorded;
    if (!key.in_window) return true;
    uint32_t place_id = 0, interface_id = 0;
    const std::optional<FlowKey> k = UnpackKey(key.bytes, static_cast<size_t>(key.size), &place_id, &interface_id);
    if (!k) return false;
    const std::optional<uint32_t> place = places.IndexOf(place_id), interface = interfaces.IndexOf(interface_id);
    if (!place || !interface) return false;  // a key naming an id its table does not have
    // interface_of stays empty until a flow has an interface; the flows before it get none.
    if (std::vector<uint32_t>& interface_of = out.places.interface_of; *interface != 0 || !interface_of.empty()) {
      interface_of.resize(out.flows.size(), 0);
      interface_of.push_back(*interface);
    }
    out.flows.push_back(Flow{*k, key.counts});
    out.is_new.push_back(key.first_run == *latest);
    out.places.of.push_back(*place);
    return true;
  };
  const auto damaged = [this](int size) {
    return Fail(InvalidInput(path_ + ": loading: a damaged flow key (" + std::to_string(size) + " bytes)"));
  };
  uint64_t done = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    const auto* bytes = static_cast<const uint8_t*>(sqlite3_column_blob(s, 0));
    const int size = sqlite3_column_bytes(s, 0);
    if (size <= 0 || size > static_cast<int>(PackedKey::kMaxSize)) return damaged(size);
    if (size != key.size || std::memcmp(bytes, key.bytes, static_cast<size_t>(size)) != 0) {
      if (!flush()) return damaged(key.size);
      key = KeyRows{};
      std::memcpy(key.bytes, bytes, static_cast<size_t>(size));
      key.size = size;
    }
    RowValue row;
    const auto* value = static_cast<const uint8_t*>(sqlite3_column_blob(s, 2));
    if (!UnpackValue(value, static_cast<size_t>(sqlite3_column_bytes(s, 2)), sqlite3_column_int64(s, 1), &row)) {
      return Fail(InvalidInput(path_ + ": loading: a damaged flow value"));
    }
    key.first_run = std::min(key.first_run, row.run);
    all.Add(row.counts);
    if (since == 0 || (row.counts.last != flowlog::kNoTime && row.counts.last >= since)) {
      key.counts.Add(row.counts);
      key.in_window = true;
    }
    if (++done % kProgressEvery == 0 && progress) progress(done, static_cast<uint64_t>(*total));
  }
  if (rc != SQLITE_DONE) return Fail(Failure("loading"));
  if (!flush()) return damaged(key.size);
  out.first = all.first;
  out.last = all.last;
  if (progress) progress(done, static_cast<uint64_t>(*total));
  return out;
}

Result<uint64_t> FlowStore::Prune(int64_t before) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db_.get(), "DELETE FROM flows WHERE day < ?1", -1, &raw, nullptr);
  const Statement s(raw);
  if (rc == SQLITE_OK) {
    sqlite3_bind_int64(raw, 1, DayOf(before));
    rc = sqlite3_step(raw);
  }
  if (rc != SQLITE_DONE) return Fail(Failure("pruning"));
  return static_cast<uint64_t>(sqlite3_changes64(db_.get()));
}

Result<std::string> DefaultFlowStorePath(const std::function<const char*(const char*)>& getenv) {
  const std::filesystem::path file = std::filesystem::path("moat") / "flows.sqlite";
  // The spec: a relative path in these variables is invalid and ignored.
  if (const char* state = getenv("XDG_STATE_HOME"); state != nullptr && state[0] == '/') {
    return (std::filesystem::path(state) / file).string();
  }
  if (const char* home = getenv("HOME"); home != nullptr && home[0] != '\0') {
    return (std::filesystem::path(home) / ".local" / "state" / file).string();
  }
  return Fail(InvalidInput("no place for the flow store: neither XDG_STATE_HOME nor HOME is set"));
}

}  // namespace moat::store
