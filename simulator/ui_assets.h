// The dashboard's files (simulator/ui/), built into nukisim by cmake/embed_ui.cmake.
#pragma once

#include <string_view>

namespace nukihil::sim::ui {

std::string_view indexHtml();
std::string_view appJs();
std::string_view appCss();

}  // namespace nukihil::sim::ui
