#include "corio/exception_group.hpp"

#include "corio/log.hpp"

namespace corio {

namespace {
std::string describe_all(const std::vector<std::exception_ptr>& errors, const std::string& context) {
    std::string text = std::to_string(errors.size()) + (errors.size() == 1 ? " error in " : " errors in ") + context + ":";
    for (std::size_t i = 0; i < errors.size(); ++i)
        text += (i == 0 ? " [" : "; [") + std::to_string(i + 1) + "] " + describe(errors[i]);
    return text;
}
}  // namespace

exception_group::exception_group(std::vector<std::exception_ptr> errors, const std::string& context)
    : error(describe_all(errors, context)), errors_(std::move(errors)) {}

}  // namespace corio
