// The map laid out by Graphviz (libgvc, the dot engine) in this process. The only file of moat
// that includes Graphviz. Graphviz keeps global state (its error reporting, the parser), so every
// use holds one mutex; its messages are collected instead of printed and end up in the Error.
#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <memory>
#include <mutex>

#include "map/internal.h"
#include "map/traffic_map.h"

namespace moat::map {
namespace {

std::mutex graphviz_mutex;
std::string* graphviz_messages = nullptr;  // guarded by graphviz_mutex

constexpr size_t kMaxMessageBytes = 600;

int CollectMessage(char* text) {
  if (graphviz_messages != nullptr && text != nullptr && graphviz_messages->size() < kMaxMessageBytes) {
    graphviz_messages->append(text);
  }
  return 0;
}

// While alive: Graphviz's messages go to `messages` rather than stderr. REQUIRES: graphviz_mutex held.
class MessageCapture {
 public:
  explicit MessageCapture(std::string* messages)
      : previous_fn_(agseterrf(&CollectMessage)), previous_level_(agseterr(AGWARN)) {
    graphviz_messages = messages;
    agreseterrors();
  }
  ~MessageCapture() {
    graphviz_messages = nullptr;
    agseterr(previous_level_);
    agseterrf(previous_fn_);
  }
  MessageCapture(const MessageCapture&) = delete;
  MessageCapture& operator=(const MessageCapture&) = delete;

 private:
  agusererrf previous_fn_;
  agerrlevel_t previous_level_;
};

// One context for the life of the process, made on first use. Not one per call: Graphviz 2.43's
// text layout (pango plugin) keeps a pointer into the font table gvFreeContext frees and reads it
// in the next context's layout (a use after free under valgrind), and each context leaks its plugin
// configuration. REQUIRES: graphviz_mutex held.
GVC_t* Context() {
  static GVC_t* const gvc = gvContext();
  return gvc;
}

struct GraphDeleter {
  void operator()(Agraph_t* g) const { agclose(g); }
};
struct RenderDataDeleter {
  void operator()(char* data) const { gvFreeRenderData(data); }
};
// Frees whatever gvLayout made, whether it succeeded or not (safe on a graph with no layout).
class LayoutGuard {
 public:
  LayoutGuard(GVC_t* gvc, Agraph_t* graph) : gvc_(gvc), graph_(graph) {}
  ~LayoutGuard() { gvFreeLayout(gvc_, graph_); }
  LayoutGuard(const LayoutGuard&) = delete;
  LayoutGuard& operator=(const LayoutGuard&) = delete;

 private:
  GVC_t* gvc_;
  Agraph_t* graph_;
};

// "graphviz: what: messages" with the messages on one line.
Error GraphvizError(std::string_view what, std::string messages) {
  for (char& c : messages) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  while (!messages.empty() && messages.back() == ' ') messages.pop_back();
  std::string text = "graphviz: " + std::string(what);
  if (!messages.empty()) text += ": " + messages;
  return Internal(std::move(text));
}

Result<std::string> LayOut(const std::string& dot) {
  std::lock_guard<std::mutex> lock(graphviz_mutex);
  std::string messages;
  MessageCapture capture(&messages);
  GVC_t* gvc = Context();
  if (gvc == nullptr) return Fail(GraphvizError("cannot create a context", messages));
  std::unique_ptr<Agraph_t, GraphDeleter> graph(agmemread(dot.c_str()));
  if (!graph) return Fail(GraphvizError("cannot read the map's DOT", messages));
  const LayoutGuard layout(gvc, graph.get());  // before `graph` closes
  if (gvLayout(gvc, graph.get(), "dot") != 0) return Fail(GraphvizError("dot layout failed", messages));
  char* raw = nullptr;
  unsigned int length = 0;
  const int rc = gvRenderData(gvc, graph.get(), "svg", &raw, &length);
  std::unique_ptr<char, RenderDataDeleter> data(raw);
  if (rc != 0 || !data) return Fail(GraphvizError("svg rendering failed", messages));
  return std::string(data.get(), length);
}

// From Graphviz's document to the <svg> element: no prolog, DOCTYPE or comments (which repeat
// every node name), and "-" for the "&#45;" Graphviz writes in ids, classes and text.
Result<std::string> SvgElement(std::string_view raw) {
  const size_t start = raw.find("<svg");
  const size_t end = raw.rfind("</svg>");
  if (start == std::string_view::npos || end == std::string_view::npos || end < start) {
    return Fail(Internal("graphviz: the svg renderer wrote no <svg> element"));
  }
  raw = raw.substr(start, end + 6 - start);
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size();) {
    if (raw.compare(i, 4, "<!--") == 0) {
      const size_t close = raw.find("-->", i + 4);
      if (close == std::string_view::npos) break;
      i = close + 3;
      if (i < raw.size() && raw[i] == '\n') ++i;
    } else if (raw.compare(i, 5, "&#45;") == 0) {
      out += '-';
      i += 5;
    } else {
      out += raw[i++];
    }
  }
  out += '\n';
  return out;
}

}  // namespace

Result<std::string> internal::RenderSvgElement(const TrafficMap& map) {
  Result<std::string> raw = LayOut(RenderMapDot(map));
  if (!raw) return Fail(std::move(raw).error());
  return SvgElement(*raw);
}

Result<std::string> RenderMapSvg(const TrafficMap& map) {
  Result<std::string> svg = internal::RenderSvgElement(map);
  if (!svg) return svg;
  return "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n" + *svg;
}

}  // namespace moat::map
