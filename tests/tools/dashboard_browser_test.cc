// The dashboard as a developer uses it: nukisim started with --ui, the page opened in headless
// Chromium, driven through its own controls (DevTools protocol), and checked for what it shows
// at each point, for requests outside the server and for console errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "scenarios/child_process.h"
#include "tests/support/devtools.h"
#include "tests/support/sim_harness.h"

namespace nukihil::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kToken = "dash-admin-token-0123456789";

#define SKIP_WITHOUT_CHROMIUM()                                                \
  if (!chromiumInstalled())                                                    \
  GTEST_SKIP() << kChromiumPath                                                \
               << " is not installed: run tools/setup-debian.sh (it installs " \
                  "chromium) to test the dashboard in a browser"

// A nukisim process with the dashboard, on a fleet file, and a control-plane client of it.
struct Nukisim {
  explicit Nukisim(const json& fleet) {
    fleetFile =
        fs::temp_directory_path() / ("nukihil-dash-fleet-" + std::to_string(::getpid()) + ".json");
    std::ofstream(fleetFile) << fleet.dump();
    banner = json::parse(
        process.start({NUKISIM_BINARY, "--ui", "--port", "0", "--admin-token", kToken, "--seed",
                       "7", "--start", "2026-12-03T10:00:00Z", "--fleet", fleetFile.string()}));
    url = banner["url"];
    port = uint16_t(std::stoi(url.substr(url.rfind(':') + 1)));
    admin = std::make_unique<TestClient>(port, kToken);
  }
  ~Nukisim() {
    std::error_code ignored;
    fs::remove(fleetFile, ignored);
  }
  scenarios::ChildProcess process;
  fs::path fleetFile;
  json banner;
  std::string url;
  uint16_t port = 0;
  std::unique_ptr<TestClient> admin;
};

std::string js(const std::string& s) {
  return json(s).dump();
}

// Signs in through the page's own form.
void signIn(Chromium& page, const Nukisim& sim) {
  page.open(sim.url + "/sim/ui");
  ASSERT_TRUE(page.waitFor("!document.getElementById('login').hidden")) << "the sign-in form";
  page.eval("document.getElementById('token').value = " + js(kToken) +
            "; document.getElementById('login-form').requestSubmit(); true");
  ASSERT_TRUE(
      page.waitFor("!document.getElementById('app').hidden && "
                   "document.querySelectorAll('#cards .card').length > 0"))
      << "the fleet after signing in";
}

std::string text(Chromium& page, const std::string& selector) {
  return page.eval("(document.querySelector(" + js(selector) + ") || {}).textContent || ''")
      .get<std::string>();
}

// Every request the page made went to the server it came from, and nothing went wrong in it.
void expectSelfContained(Chromium& page, const Nukisim& sim) {
  page.eval("1");  // the events that came after the last call
  ASSERT_FALSE(page.requests().empty());
  for (const auto& url : page.requests())
    EXPECT_TRUE(url.rfind(sim.url + "/", 0) == 0 || url.rfind("data:", 0) == 0 ||
                url == "about:blank")
        << "a request outside the server: " << url;
  for (const auto& e : page.errors())
    ADD_FAILURE() << "the page logged an error: " << e;
}

TEST(DashboardBrowser, OffLineAKeypadTryAndTheDailySyncAsThePageShowsThem) {
  SKIP_WITHOUT_CHROMIUM();
  const json fleet = {{"accounts",
                       {{{"name", "Home"},
                         {"smartlocks",
                          {{{"name", "Front door"},
                            {"model", "3.0 Pro"},
                            {"timezone", "Europe/Berlin"},
                            {"codes", {{{"name", "Cleaner"}, {"code", 234567}}}}},
                           {{"name", "Garden gate"}, {"model", "3.0"}},
                           {{"name", "Office"}, {"model", "3.0 Pro"}}}}}}}};
  Nukisim sim(fleet);
  auto locks = sim.admin->get("/sim/v1/smartlocks?q=front");
  ASSERT_EQ(locks.json().size(), 1u);
  const uint64_t front = locks.json()[0]["smartlockId"];
  const std::string apiToken = sim.admin->get("/sim/v1/accounts").json()[0]["apiToken"];

  Chromium page;
  signIn(page, sim);
  EXPECT_EQ(page.eval("document.querySelectorAll('#cards .card').length").get<int>(), 3);
  EXPECT_NE(text(page, "#count").find("of 3 locks"), std::string::npos) << text(page, "#count");
  EXPECT_NE(text(page, "#clock").find("2026-12-03 10:00"), std::string::npos)
      << text(page, "#clock");

  // Pick the lock: its facts and its synced code, the same on both sides.
  page.eval("document.querySelector('#cards .card[data-id=\"" + std::to_string(front) +
            "\"] button').click(); true");
  ASSERT_TRUE(page.waitFor("document.getElementById('lock-name').textContent === 'Front door'"));
  EXPECT_NE(text(page, "#lock-state").find("Europe/Berlin, local time 2026-12-03 11:00"),
            std::string::npos)
      << text(page, "#lock-state");
  EXPECT_NE(text(page, "#codes tbody").find("Cleaner"), std::string::npos);
  EXPECT_EQ(page.eval("document.querySelectorAll('#codes tr.differs').length").get<int>(), 0);

  // Off line, through the page.
  page.eval("document.getElementById('ctl-online').click(); true");
  ASSERT_TRUE(
      page.waitFor("document.getElementById('lock-state').textContent.includes('off line')"));
  ASSERT_TRUE(page.waitFor("document.querySelector('#cards .card[data-id=\"" +
                           std::to_string(front) + "\"]').textContent.includes('off line')"))
      << "the card too";
  EXPECT_FALSE(sim.admin->get("/sim/v1/smartlocks/" + std::to_string(front)).json()["online"]);

  // Someone else (an integration, here this test) creates a code through Nuki Web: the page
  // shows it queued without being reloaded. The integration listens for Nuki webhooks, at an
  // address where nothing answers: the journal shows each try and how it ended.
  TestClient nuki(sim.port, apiToken);
  ASSERT_EQ(
      nuki.put("/api/decentralWebhook", {{"webhookUrl", "http://127.0.0.1:9/nuki"},
                                         {"webhookFeatures", {"DEVICE_STATUS", "DEVICE_AUTHS"}}})
          .status,
      200);
  auto created =
      nuki.put("/smartlock/" + std::to_string(front) + "/auth",
               {{"name", "Guest"}, {"type", 13}, {"code", 345678}, {"remoteAllowed", false}});
  ASSERT_EQ(created.status, 204) << created.body;
  ASSERT_TRUE(
      page.waitFor("[...document.querySelectorAll('#codes tr.queued')].some(r => "
                   "r.textContent.includes('Guest') && r.textContent.includes('queue'))"))
      << text(page, "#codes");
  EXPECT_NE(text(page, "#queue").find("authCreate"), std::string::npos) << text(page, "#queue");

  // The keypad: a code on the lock, and one that is not.
  page.eval(
      "document.getElementById('ctl-keypad').value = '234567';"
      "document.getElementById('ctl-keypad-form').requestSubmit(); true");
  ASSERT_TRUE(page.waitFor("document.getElementById('keypad-result').dataset.granted === 'true'"))
      << text(page, "#keypad-result");
  page.eval(
      "document.getElementById('ctl-keypad').value = '999999';"
      "document.getElementById('ctl-keypad-form').requestSubmit(); true");
  ASSERT_TRUE(page.waitFor("document.getElementById('keypad-result').dataset.granted === 'false'"));
  EXPECT_NE(text(page, "#keypad-result").find("UNKNOWN_CODE"), std::string::npos);
  ASSERT_TRUE(page.waitFor("document.querySelectorAll('#tries li').length === 2"));
  EXPECT_NE(text(page, "#tries li:first-child").find("999999"), std::string::npos)
      << "newest first";
  EXPECT_NE(text(page, "#tries li:first-child").find("no such code on the lock"),
            std::string::npos);

  // Back on line and 10 s on: the code is on the lock, and Nuki Web shows it only after the
  // sync — the page says so, with the sync's local time.
  page.eval("document.getElementById('ctl-online').click(); true");
  ASSERT_TRUE(
      page.waitFor("document.getElementById('lock-state').textContent.includes('on line')"));
  page.eval(
      "document.getElementById('advance-by').value = '10s';"
      "document.getElementById('advance').requestSubmit(); true");
  ASSERT_TRUE(page.waitFor("document.getElementById('clock').textContent.includes('10:00:1')"))
      << text(page, "#clock");
  ASSERT_TRUE(
      page.waitFor("[...document.querySelectorAll('#codes tr.differs')].some(r => "
                   "r.textContent.includes('Guest'))"))
      << text(page, "#codes");
  const std::string why = text(page, "#codes tr.differs .why");
  EXPECT_NE(why.find("added 11:00"), std::string::npos) << why;
  EXPECT_NE(why.find("shows after the sync at"), std::string::npos) << why;
  EXPECT_NE(why.find("03:00"), std::string::npos) << why;
  const fs::path shot = fs::path(NUKIHIL_BINARY).parent_path().parent_path() / "dashboard-lock.png";
  std::ofstream(shot, std::ios::binary) << page.screenshot();

  // To the next sync: the new virtual time, and nothing differs any more.
  page.eval("document.getElementById('advance-sync').click(); true");
  ASSERT_TRUE(
      page.waitFor("document.getElementById('clock').textContent.includes('2026-12-04 02:00')"))
      << text(page, "#clock") << " (03:00 in Berlin is 02:00 UTC)";
  ASSERT_TRUE(
      page.waitFor("document.querySelectorAll('#codes tr.differs, #codes tr.queued').length === 0"))
      << text(page, "#codes");
  EXPECT_NE(text(page, "#codes").find("345678"), std::string::npos);

  // The webhooks the lock caused, with where they went and how each try ended.
  ASSERT_TRUE(
      page.waitFor("[...document.querySelectorAll('#journal li')].some(li => "
                   "li.textContent.includes('webhook DEVICE_STATUS to http://127.0.0.1:9/nuki') "
                   "&& !li.textContent.includes('in flight'))"))
      << text(page, "#journal");
  EXPECT_EQ(text(page, "#journal").find("undefined"), std::string::npos) << text(page, "#journal");
  EXPECT_NE(text(page, "#journal").find("PUT /smartlock/" + std::to_string(front) + "/auth → 204"),
            std::string::npos)
      << text(page, "#journal");

  expectSelfContained(page, sim);
}

TEST(DashboardBrowser, AThousandLocksArePagedSearchedAndScreenshot) {
  SKIP_WITHOUT_CHROMIUM();
  Nukisim sim(json{{"generate", {{"accounts", 4}, {"locksPerAccount", 250}, {"model", "mixed"}}}});
  Chromium page;
  signIn(page, sim);
  EXPECT_EQ(page.eval("document.querySelectorAll('#cards .card').length").get<int>(), 50);
  EXPECT_NE(text(page, "#count").find("1–50 of 1000 locks"), std::string::npos)
      << text(page, "#count");
  EXPECT_NE(text(page, "#page").find("page 1 of 20"), std::string::npos);

  page.eval("document.getElementById('next').click(); true");
  ASSERT_TRUE(page.waitFor("document.getElementById('count').textContent.startsWith('51–100')"));

  // A search: the page shows what the control plane finds, and nothing else.
  page.eval(
      "(() => { const s = document.getElementById('search'); s.value = 'lock 99';"
      "s.dispatchEvent(new Event('input')); return true; })()");
  auto expected = sim.admin->get("/sim/v1/smartlocks?q=lock%2099&limit=50");
  const std::string total = expected.headers["x-total-count"];
  ASSERT_TRUE(page.waitFor("document.getElementById('count').textContent.includes('of " + total +
                           " matching')"))
      << text(page, "#count") << " (expected " << total << ")";
  const json names =
      page.eval("[...document.querySelectorAll('#cards .card .name')].map(e => e.textContent)");
  ASSERT_EQ(names.size(), expected.json().size());
  for (size_t i = 0; i < names.size(); ++i)
    EXPECT_EQ(names[i], expected.json()[i]["name"]);

  page.eval(
      "(() => { const s = document.getElementById('search'); s.value = '';"
      "s.dispatchEvent(new Event('input')); return true; })()");
  ASSERT_TRUE(
      page.waitFor("document.getElementById('count').textContent.includes('of 1000 locks')"));
  const std::string png = page.screenshot();
  ASSERT_GT(png.size(), 10000u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
  const fs::path shot = fs::path(NUKIHIL_BINARY).parent_path().parent_path() / "dashboard-1000.png";
  std::ofstream(shot, std::ios::binary) << png;
  std::cout << "screenshot of the fleet of 1000: " << shot.string() << "\n";
  expectSelfContained(page, sim);
}

TEST(DashboardBrowser, AWrongTokenIsRefusedOnThePageAndNeverPutInTheUrl) {
  SKIP_WITHOUT_CHROMIUM();
  Nukisim sim(json{{"generate", {{"accounts", 1}, {"locksPerAccount", 2}}}});
  Chromium page;
  page.open(sim.url + "/sim/ui");
  ASSERT_TRUE(page.waitFor("!document.getElementById('login').hidden"));
  page.eval(
      "document.getElementById('token').value = 'not-the-token';"
      "document.getElementById('login-form').requestSubmit(); true");
  ASSERT_TRUE(page.waitFor("document.getElementById('login-error').textContent.length > 0"));
  EXPECT_NE(text(page, "#login-error").find("not this nukisim's admin token"), std::string::npos);
  EXPECT_TRUE(page.eval("document.getElementById('app').hidden").get<bool>());
  EXPECT_TRUE(page.call("Network.getCookies")["cookies"].empty()) << "no session for a wrong token";
  signIn(page, sim);
  const json cookies = page.call("Network.getCookies")["cookies"];
  ASSERT_EQ(cookies.size(), 1u) << cookies.dump();
  EXPECT_TRUE(cookies[0]["httpOnly"].get<bool>());
  EXPECT_EQ(cookies[0]["sameSite"], "Strict");
  EXPECT_EQ(page.eval("document.cookie").get<std::string>(), "")
      << "HttpOnly: not visible to script";
  const std::string session =
      cookies[0]["name"].get<std::string>() + "=" + cookies[0]["value"].get<std::string>();
  for (const auto& url : page.requests())
    EXPECT_EQ(url.find(kToken), std::string::npos) << url;
  auto withSession = [&] {
    TestClient other(sim.port);
    return other.request("GET", "/sim/v1/health", "", {{"Cookie", session}, {"X-Nukisim-UI", "1"}})
        .status;
  };
  EXPECT_EQ(withSession(), 200);
  // Signing out: back to the form, and nukisim has ended the session (not only the browser
  // dropped its cookie).
  page.eval("document.getElementById('logout').click(); true");
  ASSERT_TRUE(page.waitFor("!document.getElementById('login').hidden"));
  EXPECT_EQ(withSession(), 401);
}

}  // namespace
}  // namespace nukihil::test
