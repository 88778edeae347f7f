// The module is header-only (an inline function); SwiftPM wants one source file per C target.
#include "CPrefetch.h"
