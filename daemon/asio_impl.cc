// The one translation unit that compiles Asio and Beast (with
// BOOST_ASIO_SEPARATE_COMPILATION / BOOST_BEAST_SEPARATE_COMPILATION set for
// the whole build), so every other file only includes their headers.
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
