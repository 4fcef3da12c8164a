// A small XML reader for the S3 documents the gateway receives (client
// request bodies such as CompleteMultipartUpload and Delete, backend
// responses such as ListBucketResult): expat builds a tree of elements
// with their text, namespaces dropped. Untrusted input is bounded: no
// DOCTYPE (so no entity expansion), a size limit, a depth limit and an
// element-count limit.
#pragma once

#include "roar/collector/result.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace roar::proxy::gateway {

struct XmlElement {
    std::string name; // local name (any namespace prefix or URI removed)
    std::string text; // character data directly inside this element
    std::vector<XmlElement> children;

    // The first child named `name`, or nullptr.
    const XmlElement* child(std::string_view name) const;
    // The text of the first child named `name`, or `fallback`.
    std::string child_text(std::string_view name, std::string_view fallback = {}) const;
    // Every child named `name`.
    std::vector<const XmlElement*> children_named(std::string_view name) const;
};

struct XmlLimits {
    std::size_t max_bytes = 8u << 20;
    std::size_t max_depth = 16;
    std::size_t max_elements = 200000;
};

// Parses the document `text` into its root element.
Result<XmlElement> parse_xml(std::string_view text, const XmlLimits& limits = {});

} // namespace roar::proxy::gateway
