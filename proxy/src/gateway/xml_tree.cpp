// The expat-based XML tree reader (see xml_tree.hpp).
#include "roar/proxy/gateway/xml_tree.hpp"

#include <expat.h>

#include <memory>

namespace roar::proxy::gateway {

const XmlElement* XmlElement::child(std::string_view n) const
{
    for (const auto& c : children) {
        if (c.name == n) {
            return &c;
        }
    }
    return nullptr;
}

std::string XmlElement::child_text(std::string_view n, std::string_view fallback) const
{
    const XmlElement* c = child(n);
    return c ? c->text : std::string(fallback);
}

std::vector<const XmlElement*> XmlElement::children_named(std::string_view n) const
{
    std::vector<const XmlElement*> out;
    for (const auto& c : children) {
        if (c.name == n) {
            out.push_back(&c);
        }
    }
    return out;
}

namespace {

struct Builder {
    XML_Parser parser = nullptr;
    XmlLimits limits;
    XmlElement root;
    std::vector<XmlElement*> stack;
    bool have_root = false;
    std::size_t elements = 0;
    std::string error;

    void stop(std::string why)
    {
        if (error.empty()) {
            error = std::move(why);
        }
        XML_StopParser(parser, XML_FALSE);
    }
};

std::string local_name(const XML_Char* name)
{
    // With namespace processing, names arrive as "uri<sep>local".
    std::string_view n(name);
    const auto sep = n.rfind('\x1F');
    return std::string(sep == std::string_view::npos ? n : n.substr(sep + 1));
}

void on_start(void* data, const XML_Char* name, const XML_Char** /*attrs*/)
{
    auto* b = static_cast<Builder*>(data);
    if (++b->elements > b->limits.max_elements) {
        b->stop("too many elements");
        return;
    }
    if (b->stack.size() >= b->limits.max_depth) {
        b->stop("elements nested too deeply");
        return;
    }
    if (b->stack.empty()) {
        if (b->have_root) {
            b->stop("more than one root element");
            return;
        }
        b->have_root = true;
        b->root.name = local_name(name);
        b->stack.push_back(&b->root);
        return;
    }
    XmlElement* parent = b->stack.back();
    parent->children.push_back(XmlElement{local_name(name), {}, {}});
    b->stack.push_back(&parent->children.back());
}

void on_end(void* data, const XML_Char* /*name*/)
{
    auto* b = static_cast<Builder*>(data);
    if (!b->stack.empty()) {
        b->stack.pop_back();
    }
}

void on_text(void* data, const XML_Char* s, int len)
{
    auto* b = static_cast<Builder*>(data);
    if (!b->stack.empty()) {
        b->stack.back()->text.append(s, static_cast<std::size_t>(len));
    }
}

void on_doctype(void* data, const XML_Char* /*name*/, const XML_Char* /*sysid*/, const XML_Char* /*pubid*/,
                int /*has_internal_subset*/)
{
    static_cast<Builder*>(data)->stop("a DOCTYPE is not accepted");
}

void on_entity(void* data, const XML_Char* /*name*/, int /*is_param*/, const XML_Char* /*value*/, int /*len*/,
               const XML_Char* /*base*/, const XML_Char* /*sysid*/, const XML_Char* /*pubid*/,
               const XML_Char* /*notation*/)
{
    static_cast<Builder*>(data)->stop("entity declarations are not accepted");
}

} // namespace

Result<XmlElement> parse_xml(std::string_view text, const XmlLimits& limits)
{
    if (text.size() > limits.max_bytes) {
        return fail("XML document of {} bytes is larger than the limit of {}", text.size(), limits.max_bytes);
    }
    std::unique_ptr<std::remove_pointer_t<XML_Parser>, decltype(&XML_ParserFree)> parser(
        XML_ParserCreateNS(nullptr, '\x1F'), &XML_ParserFree);
    if (!parser) {
        return fail("out of memory creating an XML parser");
    }
    Builder b;
    b.parser = parser.get();
    b.limits = limits;
    XML_SetUserData(parser.get(), &b);
    XML_SetElementHandler(parser.get(), &on_start, &on_end);
    XML_SetCharacterDataHandler(parser.get(), &on_text);
    XML_SetStartDoctypeDeclHandler(parser.get(), &on_doctype);
    XML_SetEntityDeclHandler(parser.get(), &on_entity);
    const auto status = XML_Parse(parser.get(), text.data(), static_cast<int>(text.size()), XML_TRUE);
    if (!b.error.empty()) {
        return fail("malformed XML: {}", b.error);
    }
    if (status != XML_STATUS_OK) {
        return fail("malformed XML at line {}: {}", XML_GetCurrentLineNumber(parser.get()),
                    XML_ErrorString(XML_GetErrorCode(parser.get())));
    }
    if (!b.have_root) {
        return fail("malformed XML: no root element");
    }
    return std::move(b.root);
}

} // namespace roar::proxy::gateway
