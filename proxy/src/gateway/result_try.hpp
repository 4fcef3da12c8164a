// Early return on a failed tl::expected, for the gateway's sources:
//   GW_TRY(v, expr)  evaluates expr into v, returns its error if it failed;
//   GW_CHECK(expr)   the same for results whose value is not needed.
// The enclosing function must return a tl::expected with the same error type.
#pragma once

#include <tl/expected.hpp>

#define GW_TRY(var, expr)                                                                                              \
    auto var = (expr);                                                                                                 \
    if (!var) {                                                                                                        \
        return tl::unexpected(std::move(var).error());                                                                 \
    }

#define GW_CHECK(expr)                                                                                                 \
    do {                                                                                                               \
        if (auto gw_check_result_ = (expr); !gw_check_result_) {                                                       \
            return tl::unexpected(std::move(gw_check_result_).error());                                                \
        }                                                                                                              \
    } while (false)
