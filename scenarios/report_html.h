// The HTML report of a scenario run: one self-contained page (no network, no CDN, no external
// fonts; CSS, JS and SVG inline) for QA engineers reading a CI run afterwards. The page embeds
// the run JSON and draws it with its own inline script: a summary, one section per scenario
// (divergence, a per-device swimlane timeline on virtual time, expected vs observed webhooks,
// steps) and the rule-coverage table.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace nukihil::scenarios {

// The run report JSON (every field optional; times are virtual, ms since the epoch, UTC):
//   {tool, version, generatedAt, command, seed, rulesDoc,
//    summary: {scenarios, passed, failed, errors, skipped, wallSeconds},
//    rules: [{id, title, exercised, intended, link}],          // link defaults to rulesDoc#id
//    scenarios: [{name, file, suite, verdict: "passed"|"failed"|"error"|"skipped", seed, wallMs,
//                 startMs, endMs, message, replay, replayed,
//                 divergence: {lock, index, rule, message, expected, observed, steps: [label]},
//                 problems: [text], branches: [text],
//                 steps: [{index, label, atMs, lock, text, answer, predicted, ok, run, note}],
//                        // run false: not run, the scenario stopped at an earlier step
//                 devices: [{lock, deviceId, divergenceIndex,
//                            expected: [{atMs, text, rule, step /* steps[].index */, type}],
//                            observed: [{atMs, text, id, type}],
//                            undelivered: [{atMs, text, type}]}],  // still in the outbox
//                 coverage: {ruleId: count}}]}
// `type` is the platform webhook type (deviceEventSetState, …); when missing, the first word of
// `text` (QueueAction, UpdateAction, SetState, Config) decides the marker's colour.
//
// Renders `run` as one HTML page. Any field may be missing or of an unexpected type; the page
// still renders what is there. The JSON is embedded verbatim in
// <script type="application/json" id="run-data"> with "</" written as "<\/" and "<!--" as
// "<\u0021--", so no text from the run can end or confuse that element; invalid UTF-8 in strings
// is replaced by U+FFFD. The script only ever puts run text into the DOM as text.
//
// In the browser, failed and errored scenarios are drawn at once; collapsed ones (passed,
// skipped) when first opened, printed or addressed (#scenario-N…), each once. The page records
// script errors in document.body.dataset.errors and sets document.body.dataset.rendered = "yes"
// once everything rendered without one (tests read both from the DOM).
//
// Never throws for any JSON value; a pure function, safe from any thread.
std::string renderHtmlReport(const nlohmann::json& run);

}  // namespace nukihil::scenarios
