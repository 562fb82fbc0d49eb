// Inline SVG plots for the backtest's HTML report: line plots (points as
// <circle class="pt"> with a <title> each) and grouped bar charts (<rect
// class="bar">). Rendered in C++ as text; no script, font or stylesheet
// outside the element. Pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mozaiek::svg {

struct Series {
  std::string name;
  std::string color;                              // CSS colour
  std::vector<std::pair<double, double>> points;  // x ascending for lines
  bool dashed = false;
};

struct Axes {
  std::string title;
  std::string x_label, y_label;
  bool x_dates = false;  // x in ms since the epoch: labels as dates
  bool y_from_zero = true;
  double x_min = 0, x_max = 0, y_min = 0, y_max = 0;  // both 0: from the data
  int width = 640, height = 260;
};

// A marked point (the configured threshold on a curve).
struct Marker {
  double x = 0, y = 0;
  std::string label;
  std::string color;
};

std::string line_plot(const Axes& axes, const std::vector<Series>& series,
                      const std::vector<Marker>& markers = {});

// Grouped bars: one group per category, one bar per series (series[i].points[g].second).
std::string bar_plot(const Axes& axes, const std::vector<std::string>& categories,
                     const std::vector<Series>& series);

// Text escaped for HTML and SVG character data and attribute values.
std::string escape(std::string_view text);

}  // namespace mozaiek::svg
