// Intentionally empty: the header declares what Swift needs; libc provides the symbols.
#include "cepoll.h"
