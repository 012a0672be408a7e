// Boost.JSON compiled from its sources into the fuzz target, so that its
// parser carries libFuzzer's coverage instrumentation.
#include <boost/json/src.hpp>
