// fmt's non-template functions and the two locale templates roar's code
// uses, compiled once into roar::fmt (cmake/StaticDeps.cmake). The
// definitions are format-inl.h's own; only the instantiations are named
// here, the ones fmt's headers declare but leave to the compiled library.
#include <fmt/format-inl.h>

FMT_BEGIN_NAMESPACE
namespace detail {
template auto thousands_sep_impl<char>(locale_ref) -> thousands_sep_result<char>;
template auto decimal_point_impl<char>(locale_ref) -> char;
} // namespace detail
FMT_END_NAMESPACE
