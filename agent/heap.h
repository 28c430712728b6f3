#pragma once
// How the process's heap is set up, and how its free memory goes back to the kernel. With
// glibc; elsewhere both do nothing.

namespace covet {

// Once, before any thread exists. One arena: with glibc's default, each thread of the pool
// that parses scraped pages keeps an arena of its own, and the memory of the largest page
// ever parsed stays resident (bench/scrape.sh measured 300-680 bytes per re-exported
// series; with these settings, the text we serve and little more). A fixed threshold of
// 1 MiB for giving a block its own mapping: the default threshold grows with every large
// free, so large blocks end up in the heap for good; a low one (we had 128 KiB) makes every
// OTLP request of a few hundred KB, and libcurl's 512 KiB upload buffer, which it frees
// after every export, a fresh mapping that is faulted in page by page: 500 000 page faults
// in 8 s at 16 connections of 288 KB requests (perf stat), against 16 000 with 1 MiB, and
// a quarter more spans exported (medians of three alternating 8 s runs: 10.3 against 12.6
// million). The heap's free memory goes back through release_free_heap().
void configure_heap();

// Gives the free pages of the heap back to the kernel, wherever they are in it (the top
// alone is not enough: blocks freed below live ones stay resident). The agent calls it
// every few seconds: after a burst of traffic, resident memory falls back within seconds.
void release_free_heap();

}  // namespace covet
