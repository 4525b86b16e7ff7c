// Errors as values: every fallible function returns Result<T> or Status.
// Only src/cli turns an Error into a message on stderr and an exit code.
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <variant>

namespace dumpscope {

struct Error {
    std::string message;
};

// "cannot open /x: No such file or directory" from a context and an errno value.
inline Error errno_error(const std::string& what, int err = errno) {
    return Error{what + ": " + std::strerror(err)};
}

template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : state_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
    Result(Error error) : state_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

    bool ok() const { return std::holds_alternative<T>(state_); }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<T>(state_); }
    const T& value() const& { return std::get<T>(state_); }
    T&& value() && { return std::get<T>(std::move(state_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    const Error& error() const { return std::get<Error>(state_); }

private:
    std::variant<T, Error> state_;
};

class [[nodiscard]] Status {
public:
    Status() = default;
    Status(Error error)
        : error_(std::move(error)), failed_(true) {}  // NOLINT(google-explicit-constructor)

    static Status success() { return {}; }
    bool ok() const { return !failed_; }
    explicit operator bool() const { return ok(); }
    const Error& error() const { return error_; }

private:
    Error error_;
    bool failed_ = false;
};

}  // namespace dumpscope

// Propagate a failed Status/Result from the enclosing function.
#define DS_TRY(expr)                                             \
    do {                                                         \
        auto ds_try_result_ = (expr);                            \
        if (!ds_try_result_.ok()) return ds_try_result_.error(); \
    } while (0)
