#include "connectors/backtest/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <tuple>

#include "stream/time.h"

namespace mozaiek::svg {
namespace {

constexpr double kLeft = 56, kRight = 16, kTop = 40, kBottom = 44;

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string tick_text(double v, bool dates) {
  if (dates) {
    return format_rfc3339(event_time_from_ms(static_cast<std::int64_t>(v))).substr(0, 10);
  }
  char buf[32];
  if (std::fabs(v - std::round(v)) < 1e-9) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.2g", v);
  }
  return buf;
}

// A step of 1, 2 or 5 times a power of ten giving about `n` ticks.
double nice_step(double span, int n) {
  if (span <= 0) return 1;
  const double raw = span / n;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * p >= raw) return m * p;
  }
  return 10 * p;
}

struct Frame {
  const Axes& a;
  double x0, x1, y0, y1;
  double px(double x) const {
    return kLeft + (x1 == x0 ? 0.5 : (x - x0) / (x1 - x0)) * (a.width - kLeft - kRight);
  }
  double py(double y) const {
    return a.height - kBottom -
           (y1 == y0 ? 0.5 : (y - y0) / (y1 - y0)) * (a.height - kTop - kBottom);
  }
};

void open_svg(std::string& out, const Axes& a) {
  out += "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" role=\"img\" width=\"" +
         std::to_string(a.width) + "\" height=\"" + std::to_string(a.height) + "\" viewBox=\"0 0 " +
         std::to_string(a.width) + " " + std::to_string(a.height) + "\" aria-label=\"" +
         escape(a.title) + "\">";
  out += "<text x=\"" + num(kLeft) + "\" y=\"16\" class=\"title\">" + escape(a.title) + "</text>";
}

void axes(std::string& out, const Frame& f, bool x_ticks) {
  const Axes& a = f.a;
  out += "<g class=\"axes\">";
  const double ystep = nice_step(f.y1 - f.y0, 4);
  for (double y = std::ceil(f.y0 / ystep) * ystep; y <= f.y1 + 1e-9; y += ystep) {
    out += "<line x1=\"" + num(kLeft) + "\" x2=\"" + num(a.width - kRight) + "\" y1=\"" +
           num(f.py(y)) + "\" y2=\"" + num(f.py(y)) + "\" class=\"grid\"/>";
    out += "<text x=\"" + num(kLeft - 6) + "\" y=\"" + num(f.py(y) + 4) +
           "\" text-anchor=\"end\">" + tick_text(y, false) + "</text>";
  }
  if (x_ticks) {
    double xstep = nice_step(f.x1 - f.x0, 5);
    if (a.x_dates) xstep = std::max(7.0, std::ceil(xstep / 86'400'000.0 / 7) * 7) * 86'400'000.0;
    for (double x = std::ceil(f.x0 / xstep) * xstep; x <= f.x1 + 1e-9; x += xstep) {
      out += "<text x=\"" + num(f.px(x)) + "\" y=\"" + num(a.height - kBottom + 16) +
             "\" text-anchor=\"middle\">" + tick_text(x, a.x_dates) + "</text>";
    }
  }
  out += "<line x1=\"" + num(kLeft) + "\" x2=\"" + num(a.width - kRight) + "\" y1=\"" +
         num(a.height - kBottom) + "\" y2=\"" + num(a.height - kBottom) + "\" class=\"axis\"/>";
  out += "<text x=\"" + num((kLeft + a.width - kRight) / 2) + "\" y=\"" + num(a.height - 8) +
         "\" text-anchor=\"middle\" class=\"label\">" + escape(a.x_label) + "</text>";
  out += "<text transform=\"translate(14 " + num((kTop + a.height - kBottom) / 2) +
         ") rotate(-90)\" text-anchor=\"middle\" class=\"label\">" + escape(a.y_label) + "</text>";
  out += "</g>";
}

void legend(std::string& out, const Axes& a, const std::vector<Series>& series) {
  double x = a.width - kRight;
  for (auto it = series.rbegin(); it != series.rend(); ++it) {
    x -= 14 + 7.0 * static_cast<double>(it->name.size());
    out += "<rect x=\"" + num(x) + "\" y=\"22\" width=\"10\" height=\"10\" fill=\"" + it->color +
           "\"/><text x=\"" + num(x + 13) + "\" y=\"31\" class=\"legend\">" + escape(it->name) +
           "</text>";
  }
}

}  // namespace

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string line_plot(const Axes& a, const std::vector<Series>& series,
                      const std::vector<Marker>& markers) {
  double x0 = 1e300, x1 = -1e300, y0 = a.y_from_zero ? 0 : 1e300, y1 = -1e300;
  for (const auto& s : series) {
    for (const auto& [x, y] : s.points) {
      x0 = std::min(x0, x);
      x1 = std::max(x1, x);
      y0 = std::min(y0, y);
      y1 = std::max(y1, y);
    }
  }
  if (x0 > x1) x0 = x1 = y1 = 0;
  if (a.x_min != a.x_max) std::tie(x0, x1) = std::pair{a.x_min, a.x_max};
  if (a.y_min != a.y_max) std::tie(y0, y1) = std::pair{a.y_min, a.y_max};
  if (y1 <= y0) y1 = y0 + 1;
  const Frame f{a, x0, x1, y0, y1};
  std::string out;
  open_svg(out, a);
  axes(out, f, true);
  for (const auto& s : series) {
    out += "<g class=\"series\" data-series=\"" + escape(s.name) + "\">";
    std::string d;
    for (const auto& [x, y] : s.points) {
      d += (d.empty() ? "M" : " L") + num(f.px(x)) + " " + num(f.py(y));
    }
    if (!d.empty()) {
      out += "<path d=\"" + d + "\" fill=\"none\" stroke=\"" + s.color + "\" stroke-width=\"2\"" +
             (s.dashed ? " stroke-dasharray=\"5 4\"" : "") + "/>";
    }
    for (const auto& [x, y] : s.points) {
      out += "<circle class=\"pt\" cx=\"" + num(f.px(x)) + "\" cy=\"" + num(f.py(y)) +
             "\" r=\"2.5\" fill=\"" + s.color + "\"><title>" + escape(s.name) + ": " +
             tick_text(x, a.x_dates) + ", " + tick_text(y, false) + "</title></circle>";
    }
    out += "</g>";
  }
  for (const auto& m : markers) {
    out += "<circle class=\"marker\" cx=\"" + num(f.px(m.x)) + "\" cy=\"" + num(f.py(m.y)) +
           "\" r=\"6\" fill=\"none\" stroke=\"" + m.color + "\" stroke-width=\"2\"><title>" +
           escape(m.label) + "</title></circle><text x=\"" + num(f.px(m.x) + 8) + "\" y=\"" +
           num(f.py(m.y) - 8) + "\" class=\"legend\">" + escape(m.label) + "</text>";
  }
  legend(out, a, series);
  out += "</svg>";
  return out;
}

std::string bar_plot(const Axes& a, const std::vector<std::string>& categories,
                     const std::vector<Series>& series) {
  double y0 = 0, y1 = 0;
  for (const auto& s : series) {
    for (const auto& p : s.points) {
      y0 = std::min(y0, p.second);
      y1 = std::max(y1, p.second);
    }
  }
  if (y1 <= y0) y1 = y0 + 1;
  const double n = static_cast<double>(std::max<std::size_t>(1, categories.size()));
  const Frame f{a, 0, n, y0, y1};
  std::string out;
  open_svg(out, a);
  axes(out, f, false);
  const double group = (a.width - kLeft - kRight) / n;
  const double bar = group * 0.8 / static_cast<double>(std::max<std::size_t>(1, series.size()));
  for (std::size_t g = 0; g < categories.size(); ++g) {
    const double gx = kLeft + group * static_cast<double>(g) + group * 0.1;
    out += "<text x=\"" + num(gx + group * 0.4) + "\" y=\"" + num(a.height - kBottom + 16) +
           "\" text-anchor=\"middle\" class=\"cat\">" + escape(categories[g]) + "</text>";
    for (std::size_t i = 0; i < series.size(); ++i) {
      const double v = g < series[i].points.size() ? series[i].points[g].second : 0;
      const double top = f.py(std::max(v, 0.0));
      const double bottom = f.py(std::min(v, 0.0));
      out += "<rect class=\"bar\" x=\"" + num(gx + bar * static_cast<double>(i)) + "\" y=\"" +
             num(top) + "\" width=\"" + num(bar * 0.9) + "\" height=\"" +
             num(std::max(bottom - top, 0.5)) + "\" fill=\"" + series[i].color + "\"><title>" +
             escape(series[i].name) + ", " + escape(categories[g]) + ": " + tick_text(v, false) +
             "</title></rect>";
    }
  }
  legend(out, a, series);
  out += "</svg>";
  return out;
}

}  // namespace mozaiek::svg
