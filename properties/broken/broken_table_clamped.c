/* broken_table_clamped.c -- a cos/sin table of 4096 positions, later positions clamped to row
 * 4095 (anchor: tables too short).
 * Declares the correct twin's contract (broken_kernel.h); caught by: properties/DETECTION.md. */
#include "broken_kernel.h"

RB_DEFINE_PLUGIN("broken_table_clamped", RB_TABLE_CLAMPED,
                 "f32, double angles: 4096-row cos/sin table, clamped")
