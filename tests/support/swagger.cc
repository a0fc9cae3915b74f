#include "tests/support/swagger.h"

#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "runtime/time.h"

namespace nukihil::test {

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string fixturePath(const std::string& relative) {
  return std::string(NUKIHIL_SOURCE_DIR) + "/tests/fixtures/" + relative;
}

const Swagger& Swagger::nuki() {
  static const Swagger s = [] {
    Swagger sw(nlohmann::json::parse(readFile(fixturePath("nuki/nuki-web-api.swagger.json"))));
    sw.patch(nlohmann::json::parse(readFile(fixturePath("nuki/nuki-web-api.overrides.json"))));
    return sw;
  }();
  return s;
}

Swagger::Swagger(nlohmann::json document) : doc_(std::move(document)) {}

void Swagger::patch(const nlohmann::json& ops) {
  for (const auto& op : ops) {
    const nlohmann::json::json_pointer ptr(op.at("path").get<std::string>());
    const std::string kind = op.at("op").get<std::string>();
    if (kind == "replace" || kind == "add")
      doc_[ptr] = op.at("value");
    else if (kind == "remove")
      doc_[ptr.parent_pointer()].erase(ptr.back());
    else
      throw std::runtime_error("unsupported patch op " + kind);
  }
}

std::vector<std::string> Swagger::validate(const nlohmann::json& value, const std::string& name,
                                           bool strict) const {
  return validateSchema(value, nlohmann::json{{"$ref", "#/definitions/" + name}}, strict);
}

std::vector<std::string> Swagger::validateSchema(const nlohmann::json& value,
                                                 const nlohmann::json& schema, bool strict) const {
  std::vector<std::string> out;
  check(value, schema, "$", strict, out);
  return out;
}

namespace {

size_t codePoints(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

}  // namespace

void Swagger::check(const nlohmann::json& v, const nlohmann::json& schemaIn,
                    const std::string& path, bool strict, std::vector<std::string>& out) const {
  const nlohmann::json* schema = &schemaIn;
  while (schema->contains("$ref")) {
    const std::string ref = (*schema)["$ref"].get<std::string>();
    if (ref.rfind("#/", 0) != 0) {
      out.push_back(path + ": unsupported $ref " + ref);
      return;
    }
    const nlohmann::json::json_pointer ptr(ref.substr(1));
    if (!doc_.contains(ptr)) {
      out.push_back(path + ": dangling $ref " + ref);
      return;
    }
    schema = &doc_[ptr];
  }
  const std::string type =
      schema->value("type", std::string(schema->contains("properties") ? "object" : ""));
  auto fail = [&](const std::string& why) { out.push_back(path + ": " + why); };
  if (type == "integer") {
    if (!v.is_number_integer()) return fail("expected an integer, got " + v.dump());
    const std::string format = schema->value("format", "");
    if (format == "int32" && (v.get<int64_t>() < INT32_MIN || v.get<int64_t>() > INT32_MAX) &&
        !(v.is_number_unsigned() && v.get<uint64_t>() <= INT32_MAX))
      return fail("out of int32 range: " + v.dump());
  } else if (type == "number") {
    if (!v.is_number()) return fail("expected a number, got " + v.dump());
  } else if (type == "string") {
    if (!v.is_string()) return fail("expected a string, got " + v.dump());
    if (schema->value("format", "") == "date-time" && !parseRfc3339(v.get<std::string>()))
      return fail("not an RFC 3339 date-time: " + v.dump());
  } else if (type == "boolean") {
    if (!v.is_boolean()) return fail("expected a boolean, got " + v.dump());
  } else if (type == "null") {
    if (!v.is_null()) return fail("expected null, got " + v.dump());
  } else if (type == "array") {
    if (!v.is_array()) return fail("expected an array, got " + v.dump().substr(0, 80));
  } else if (type == "object") {
    if (!v.is_object()) return fail("expected an object, got " + v.dump().substr(0, 80));
  }
  // The keywords of each kind of value apply to values of that kind, whatever `type` says (as in
  // JSON Schema: `{"required":["a"]}` says nothing about a string).
  if (v.is_array()) {
    if (schema->contains("items")) {
      for (size_t i = 0; i < v.size(); ++i)
        check(v[i], (*schema)["items"], path + "[" + std::to_string(i) + "]", strict, out);
    }
    if (schema->value("uniqueItems", false)) {
      for (size_t i = 0; i < v.size(); ++i)
        for (size_t k = i + 1; k < v.size(); ++k)
          if (v[i] == v[k]) fail("items are not unique");
    }
    if (schema->contains("minItems") && v.size() < (*schema)["minItems"].get<size_t>())
      fail("fewer than " + (*schema)["minItems"].dump() + " items");
    if (schema->contains("maxItems") && v.size() > (*schema)["maxItems"].get<size_t>())
      fail("more than " + (*schema)["maxItems"].dump() + " items");
  }
  if (v.is_object()) {
    for (const auto& r : schema->value("required", nlohmann::json::array()))
      if (!v.contains(r.get<std::string>()))
        fail("missing required property " + r.get<std::string>());
    const auto props = schema->value("properties", nlohmann::json::object());
    const bool closed = schema->contains("additionalProperties") &&
                        (*schema)["additionalProperties"].is_boolean() &&
                        !(*schema)["additionalProperties"].get<bool>();
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (props.contains(it.key())) {
        check(it.value(), props[it.key()], path + "." + it.key(), strict, out);
      } else if (schema->contains("additionalProperties") &&
                 (*schema)["additionalProperties"].is_object()) {
        check(it.value(), (*schema)["additionalProperties"], path + "." + it.key(), strict, out);
      } else if (closed || (strict && !props.empty())) {
        fail("property not in the definition: " + it.key());
      }
    }
    if (schema->contains("minProperties") && v.size() < (*schema)["minProperties"].get<size_t>())
      fail("fewer than " + (*schema)["minProperties"].dump() + " properties");
    if (schema->contains("maxProperties") && v.size() > (*schema)["maxProperties"].get<size_t>())
      fail("more than " + (*schema)["maxProperties"].dump() + " properties");
    // draft-07 `dependencies`: a present key requires other keys (array) or a schema (object).
    const auto dependencies = schema->value("dependencies", nlohmann::json::object());
    for (const auto& [key, dep] : dependencies.items()) {
      if (!v.contains(key)) continue;
      if (dep.is_array()) {
        for (const auto& r : dep)
          if (!v.contains(r.get<std::string>()))
            fail(key + " needs " + r.get<std::string>() + " too");
      } else {
        check(v, dep, path, strict, out);
      }
    }
  }
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (schema->contains("minLength") && codePoints(s) < (*schema)["minLength"].get<size_t>())
      fail("shorter than " + (*schema)["minLength"].dump() + " characters: " + v.dump());
    if (schema->contains("maxLength") && codePoints(s) > (*schema)["maxLength"].get<size_t>())
      fail("longer than " + (*schema)["maxLength"].dump() + " characters: " + v.dump());
    if (schema->contains("pattern") &&
        !std::regex_search(s, std::regex((*schema)["pattern"].get<std::string>())))
      fail("does not match the pattern " + (*schema)["pattern"].dump() + ": " + v.dump());
  }
  if (schema->contains("enum")) {
    bool found = false;
    for (const auto& e : (*schema)["enum"])
      found = found || e == v;
    if (!found) fail("not one of the enum values: " + v.dump());
  }
  if (schema->contains("const") && (*schema)["const"] != v)
    fail("not the constant " + (*schema)["const"].dump() + ": " + v.dump());
  if (v.is_number()) {
    if (schema->contains("minimum") && v.get<double>() < (*schema)["minimum"].get<double>())
      fail("below minimum " + (*schema)["minimum"].dump() + ": " + v.dump());
    if (schema->contains("maximum") && v.get<double>() > (*schema)["maximum"].get<double>())
      fail("above maximum " + (*schema)["maximum"].dump() + ": " + v.dump());
  }
  // Combinators. A branch's problems, and how many branches hold.
  auto branch = [&](const nlohmann::json& sub) {
    std::vector<std::string> problems;
    check(v, sub, path, strict, problems);
    return problems;
  };
  for (const auto& sub : schema->value("allOf", nlohmann::json::array()))
    for (auto& p : branch(sub))
      out.push_back(std::move(p));
  for (const char* key : {"anyOf", "oneOf"}) {
    if (!schema->contains(key)) continue;
    size_t holding = 0;
    std::vector<std::string> closest;
    bool first = true;
    for (const auto& sub : (*schema)[key]) {
      auto problems = branch(sub);
      if (problems.empty()) ++holding;
      if (first || problems.size() < closest.size()) closest = std::move(problems);
      first = false;
    }
    if (holding == 0) {
      // The alternative that came closest says best what is wrong.
      fail(std::string("matches none of the ") + key + " alternatives; the closest one says:");
      for (auto& p : closest)
        out.push_back("  " + p);
    } else if (holding > 1 && std::string(key) == "oneOf") {
      fail("matches " + std::to_string(holding) + " of the oneOf alternatives, not exactly one");
    }
  }
  if (schema->contains("not") && branch((*schema)["not"]).empty())
    fail("matches a schema it must not match: " + (*schema)["not"].dump().substr(0, 120));
}

}  // namespace nukihil::test
