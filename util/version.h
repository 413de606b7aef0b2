/* The version guardian reports (`guardian version`, status, metrics). */
#pragma once

#ifndef GUARDIAN_VERSION
#define GUARDIAN_VERSION "0.1.0"
#endif
