#include "operators/intake/json_wellformed.h"

namespace mozaiek {

namespace od = simdjson::ondemand;

bool consume_valid(od::value v, int depth) {
  if (depth > kMaxIgnoredNesting) return false;
  od::json_type t;
  if (v.type().get(t)) return false;
  switch (t) {
    case od::json_type::object: {
      od::object obj;
      if (v.get_object().get(obj)) return false;
      for (auto field : obj) {
        std::string_view key;
        if (field.unescaped_key().get(key)) return false;
        od::value child;
        if (field.value().get(child) || !consume_valid(child, depth + 1)) return false;
      }
      return true;
    }
    case od::json_type::array: {
      od::array arr;
      if (v.get_array().get(arr)) return false;
      for (auto element : arr) {
        od::value child;
        if (element.get(child) || !consume_valid(child, depth + 1)) return false;
      }
      return true;
    }
    case od::json_type::string: {
      std::string_view s;
      return !v.get_string().get(s);
    }
    case od::json_type::number: {
      double d;
      return !v.get_double().get(d);
    }
    case od::json_type::boolean: {
      bool b;
      return !v.get_bool().get(b);
    }
    case od::json_type::null: {
      bool is_null = false;
      return !v.is_null().get(is_null) && is_null;
    }
  }
  return false;
}

bool consume_valid(od::document& doc) {
  // Root scalars have their own accessors in ondemand (they check for trailing content).
  od::json_type t;
  if (doc.type().get(t)) return false;
  switch (t) {
    case od::json_type::object:
    case od::json_type::array: {
      od::value root;
      return !doc.get_value().get(root) && consume_valid(root, 1);
    }
    case od::json_type::string: {
      std::string_view s;
      return !doc.get_string().get(s);
    }
    case od::json_type::number: {
      double d;
      return !doc.get_double().get(d);
    }
    case od::json_type::boolean: {
      bool b;
      return !doc.get_bool().get(b);
    }
    case od::json_type::null: {
      bool is_null = false;
      return !doc.is_null().get(is_null) && is_null;
    }
  }
  return false;
}

bool read_string_slot(od::value v, JsonSlot& slot) {
  od::json_type t;
  if (v.type().get(t)) return false;
  if (t == od::json_type::string) {
    slot.kind = JsonSlot::Kind::string;
    return !v.get_string().get(slot.text);
  }
  if (t == od::json_type::null) {
    slot.kind = JsonSlot::Kind::null;
    bool is_null = false;
    return !v.is_null().get(is_null) && is_null;
  }
  slot.kind = JsonSlot::Kind::other;
  return consume_valid(v, 1);
}

}  // namespace mozaiek
