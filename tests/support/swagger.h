// A small validator for the Swagger 2.0 / JSON Schema (draft-07) subset the tests need: types and
// formats (date-time), required, enum, const, minimum/maximum, minLength/maxLength (code points),
// pattern, minItems/maxItems, minProperties/maxProperties, dependencies, allOf/anyOf/oneOf/not,
// $ref to "#/…", arrays, additionalProperties (a schema, or false), and (strict) no properties
// the definition lacks. The Nuki document is loaded with spec/nuki-web-api.overrides.json
// applied; scenarios/scenario.schema.json is loaded as a document of its own.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace nukihil::test {

class Swagger {
 public:
  // The Nuki document from tests/fixtures/nuki, overrides applied. Loaded once.
  static const Swagger& nuki();
  explicit Swagger(nlohmann::json document);
  // Applies RFC 6902 "replace"/"add"/"remove" operations.
  void patch(const nlohmann::json& operations);

  // Problems found validating `value` against definition `name` (empty: valid). With `strict`,
  // properties the definition does not declare are problems too.
  std::vector<std::string> validate(const nlohmann::json& value, const std::string& name,
                                    bool strict = true) const;
  std::vector<std::string> validateSchema(const nlohmann::json& value, const nlohmann::json& schema,
                                          bool strict = true) const;
  const nlohmann::json& document() const { return doc_; }

 private:
  void check(const nlohmann::json& v, const nlohmann::json& schema, const std::string& path,
             bool strict, std::vector<std::string>& out) const;
  nlohmann::json doc_;
};

std::string readFile(const std::string& path);
std::string fixturePath(const std::string& relative);  // under tests/fixtures

}  // namespace nukihil::test
