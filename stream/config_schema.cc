#include "stream/config_schema.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>

namespace mozaiek::config {
namespace {

std::string describe_node(const YAML::Node& n) {
  if (!n || n.IsNull()) return "nothing";
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a map";
  return "'" + n.Scalar() + "'";
}

// Edit distance counting a swap of two neighbours as one edit ("fsat" ->
// "fast"), the most common typo in hand-written keys.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  auto eq = [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  };
  std::vector<std::size_t> before(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitute = prev[j - 1] + (eq(a[i - 1], b[j - 1]) ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, substitute});
      if (i > 1 && j > 1 && eq(a[i - 1], b[j - 2]) && eq(a[i - 2], b[j - 1])) {
        cur[j] = std::min(cur[j], before[j - 2] + 1);
      }
    }
    before.swap(prev);
    prev.swap(cur);
  }
  return prev[b.size()];
}

// Table cells: escape '|', and '<' outside code spans (Markdown would read
// "<name>" as an HTML tag and drop it).
std::string escape_cell(std::string_view s) {
  std::string out;
  bool in_code = false;
  for (char c : s) {
    if (c == '`') in_code = !in_code;
    if (c == '|') out += "\\|";
    else if (c == '\n') out += ' ';
    else if (!in_code && c == '<') out += "&lt;";
    else out.push_back(c);
  }
  return out;
}

}  // namespace

bool Bound::contains(double v) const {
  if (min && (min_inclusive ? v < *min : v <= *min)) return false;
  if (max && (max_inclusive ? v > *max : v >= *max)) return false;
  return true;
}

std::string Bound::describe() const {
  if (min && max && *min == *max && min_inclusive && max_inclusive) {
    return "= " + format_number(*min);
  }
  std::string lo, hi;
  if (min) lo = std::string(min_inclusive ? ">= " : "> ") + format_number(*min);
  if (max) hi = std::string(max_inclusive ? "<= " : "< ") + format_number(*max);
  if (!lo.empty() && !hi.empty()) return lo + " and " + hi;
  return lo.empty() ? hi : lo;
}

std::string join_path(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  std::string out(parent);
  out += '.';
  out += key;
  return out;
}

std::string index_path(std::string_view parent, std::size_t i) {
  return std::string(parent) + "[" + std::to_string(i) + "]";
}

void add_error(std::vector<std::string>& errors, std::string_view path, std::string_view message,
               const YAML::Node& at) {
  std::string e(path);
  e += ": ";
  e += message;
  if (at.IsDefined()) {
    const YAML::Mark mark = at.Mark();
    if (mark.line >= 0) e += " (line " + std::to_string(mark.line + 1) + ")";
  }
  errors.push_back(std::move(e));
}

std::string did_you_mean(std::string_view key, const std::vector<std::string>& candidates) {
  const std::string* best = nullptr;
  std::size_t best_distance = 0;
  for (const auto& c : candidates) {
    std::size_t d = edit_distance(key, c);
    const std::size_t shorter = std::min(key.size(), c.size());
    const bool close = d <= std::max<std::size_t>(1, key.size() / 3);
    const bool prefix = shorter >= 4 && (c.starts_with(key) || key.starts_with(c));
    if (!close && !prefix) continue;
    if (prefix && !close) d = key.size() + c.size();  // rank true typos first
    if (!best || d < best_distance) {
      best = &c;
      best_distance = d;
    }
  }
  return best ? " (did you mean '" + *best + "'?)" : "";
}

bool check_keys(const YAML::Node& map, std::string_view path, const std::vector<std::string>& known,
                std::vector<std::string>& errors) {
  const std::size_t before = errors.size();
  std::set<std::string> seen;
  for (const auto& kv : map) {
    if (!kv.first.IsScalar()) {
      add_error(errors, path.empty() ? "(top level)" : path, "keys must be plain names", kv.first);
      continue;
    }
    const std::string& key = kv.first.Scalar();
    const std::string key_path = join_path(path, key);
    if (!seen.insert(key).second) {
      add_error(errors, key_path, "duplicate key", kv.first);
      continue;
    }
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string hint = did_you_mean(key, known);
    if (hint.empty() && !known.empty()) {
      hint = " (known keys:";
      for (const auto& k : known) hint += " " + k;
      hint += ")";
    }
    add_error(errors, key_path, "unknown key" + hint, kv.first);
  }
  return errors.size() == before;
}

std::optional<double> read_number(const YAML::Node& n, std::string_view path,
                                  std::vector<std::string>& errors) {
  if (n.IsScalar()) {
    try {
      const auto d = n.as<double>();
      if (std::isfinite(d)) return d;
    } catch (const YAML::Exception&) {
    }
  }
  add_error(errors, path, "must be a number, got " + describe_node(n), n);
  return std::nullopt;
}

std::optional<std::int64_t> read_integer(const YAML::Node& n, std::string_view path,
                                         std::vector<std::string>& errors) {
  if (n.IsScalar()) {
    try {
      return n.as<std::int64_t>();
    } catch (const YAML::Exception&) {
    }
  }
  add_error(errors, path, "must be an integer, got " + describe_node(n), n);
  return std::nullopt;
}

std::optional<bool> read_bool(const YAML::Node& n, std::string_view path,
                              std::vector<std::string>& errors) {
  if (n.IsScalar()) {
    try {
      return n.as<bool>();
    } catch (const YAML::Exception&) {
    }
  }
  add_error(errors, path, "must be true or false, got " + describe_node(n), n);
  return std::nullopt;
}

std::optional<std::string> read_string(const YAML::Node& n, std::string_view path,
                                       std::vector<std::string>& errors) {
  if (n.IsScalar()) return n.Scalar();
  add_error(errors, path, "must be a string, got " + describe_node(n), n);
  return std::nullopt;
}

std::optional<std::vector<std::string>> read_string_list(const YAML::Node& n, std::string_view path,
                                                         std::vector<std::string>& errors,
                                                         const TextCheck& check) {
  if (!n.IsSequence()) {
    add_error(errors, path, "must be a list, got " + describe_node(n), n);
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool ok = true;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const YAML::Node item = n[i];
    const std::string item_path = index_path(path, i);
    auto s = read_string(item, item_path, errors);
    if (!s) {
      ok = false;
      continue;
    }
    if (check) {
      if (std::string msg = check(*s); !msg.empty()) {
        add_error(errors, item_path, msg, item);
        ok = false;
        continue;
      }
    }
    out.push_back(std::move(*s));
  }
  if (!ok) return std::nullopt;
  return out;
}

std::string format_number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

std::string check_identifier(const std::string& s) {
  if (s.empty()) return "must not be empty";
  if (s.size() > 64) return "must be at most 64 characters";
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return "'" + s + "' must use only a-z, 0-9, '_' and '-'";
  }
  return "";
}

std::string check_not_empty(const std::string& s) { return s.empty() ? "must not be empty" : ""; }

std::string render_markdown(std::string_view title, std::string_view intro,
                            const std::vector<SectionDoc>& sections) {
  std::vector<SectionDoc> merged;
  for (const auto& s : sections) {
    auto it = std::find_if(merged.begin(), merged.end(),
                           [&](const SectionDoc& m) { return m.path == s.path; });
    if (it == merged.end()) {
      merged.push_back(s);
      continue;
    }
    if (it->description.empty()) it->description = s.description;
    it->options.insert(it->options.end(), s.options.begin(), s.options.end());
  }

  std::string out = "# " + std::string(title) + "\n\n" + std::string(intro) + "\n";
  for (const auto& s : merged) {
    out += "\n## `" + (s.path.empty() ? std::string("(top level)") : s.path) + "`\n\n";
    if (!s.description.empty()) out += s.description + "\n\n";
    if (s.options.empty()) continue;
    out += "| Key | Type | Default | Allowed | Runtime change | Description |\n";
    out += "|---|---|---|---|---|---|\n";
    for (const auto& o : s.options) {
      std::string type = o.type;
      if (!o.unit.empty()) type += " (" + o.unit + ")";
      std::string def = o.default_text.empty() ? "-" : "`" + o.default_text + "`";
      if (o.required) def = "required";
      out += "| `" + escape_cell(o.name) + "` | " + escape_cell(type) + " | " + escape_cell(def) +
             " | " + escape_cell(o.constraint.empty() ? "-" : o.constraint) + " | " +
             (o.dynamic ? "yes" : "no (restart)") + " | " + escape_cell(o.description) + " |\n";
    }
  }
  return out;
}

}  // namespace mozaiek::config
