// Boost.Asio and Boost.Beast compiled once here (separate compilation) instead of in every
// translation unit that includes them.
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
