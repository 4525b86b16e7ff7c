#include "compress/ordered_compressor.h"

#include <fmt/format.h>
#include <zstd.h>

namespace dumpscope::compress {

struct OrderedCompressor::Job {
    std::vector<uint8_t> input;
    size_t input_size = 0;
    std::vector<uint8_t> output;  // the frame is output[0, output_size)
    size_t output_size = 0;
    std::shared_ptr<const std::vector<uint8_t>> precompressed;
    uint32_t decompressed_size = 0;
    bool done = false;
    std::string error;
};

namespace {

struct CctxDeleter {
    void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
using CctxPtr = std::unique_ptr<ZSTD_CCtx, CctxDeleter>;

CctxPtr make_cctx(int level) {
    CctxPtr cctx(ZSTD_createCCtx());
    if (cctx) {
        ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, level);
        ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_checksumFlag, 1);
        ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_contentSizeFlag, 1);
    }
    return cctx;
}

// Compresses into out[0, *size) (out only grows: a reused buffer is not cleared again);
// returns an error message or "".
std::string compress_into(ZSTD_CCtx* cctx, std::span<const uint8_t> input,
                          std::vector<uint8_t>& out, size_t* size) {
    if (cctx == nullptr) return "cannot create a zstd compression context";
    const size_t bound = ZSTD_compressBound(input.size());
    if (out.size() < bound) out.resize(bound);
    const size_t n = ZSTD_compress2(cctx, out.data(), out.size(), input.data(), input.size());
    if (ZSTD_isError(n)) return std::string("zstd compression failed: ") + ZSTD_getErrorName(n);
    *size = n;
    return {};
}

}  // namespace

Result<std::vector<uint8_t>> OrderedCompressor::compress_frame(int level,
                                                               std::span<const uint8_t> input) {
    CctxPtr cctx = make_cctx(level);
    std::vector<uint8_t> out;
    size_t size = 0;
    std::string error = compress_into(cctx.get(), input, out, &size);
    if (!error.empty()) return Error{error};
    out.resize(size);
    return out;
}

OrderedCompressor::OrderedCompressor(int level, unsigned threads, size_t max_in_flight, Emit emit)
    : level_(level), max_in_flight_(std::max<size_t>(max_in_flight, 1)), emit_(std::move(emit)) {
    if (threads == 0) threads = 1;
    for (unsigned i = 0; i < threads; ++i) workers_.emplace_back([this] { work(); });
}

OrderedCompressor::~OrderedCompressor() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    work_ready_.notify_all();
    for (std::thread& t : workers_) t.join();
}

void OrderedCompressor::work() {
    CctxPtr cctx = make_cctx(level_);
    std::unique_lock lock(mutex_);
    for (;;) {
        work_ready_.wait(lock, [&] { return stopping_ || !todo_.empty(); });
        if (stopping_) return;
        std::shared_ptr<Job> job = std::move(todo_.front());
        todo_.pop_front();
        lock.unlock();
        std::string error =
            compress_into(cctx.get(), std::span<const uint8_t>(job->input.data(), job->input_size),
                          job->output, &job->output_size);
        lock.lock();
        job->error = std::move(error);
        job->done = true;
        job_done_.notify_all();
    }
}

Status OrderedCompressor::emit_ready(std::unique_lock<std::mutex>& lock, bool all) {
    for (;;) {
        if (in_order_.empty()) return {};
        if (!in_order_.front()->done) {
            if (!all && in_order_.size() <= max_in_flight_) return {};
            job_done_.wait(lock, [&] { return in_order_.front()->done; });
        }
        std::shared_ptr<Job> job = std::move(in_order_.front());
        in_order_.pop_front();
        if (!job->error.empty()) return Error{job->error};
        lock.unlock();
        const std::span<const uint8_t> frame =
            job->precompressed ? std::span<const uint8_t>(*job->precompressed)
                               : std::span<const uint8_t>(job->output.data(), job->output_size);
        Status written = emit_(frame, job->decompressed_size);
        lock.lock();
        if (!job->input.empty()) spare_.push_back(std::move(job->input));
        if (!job->output.empty()) spare_outputs_.push_back(std::move(job->output));
        if (!written.ok()) return written;
    }
}

Status OrderedCompressor::submit(std::vector<uint8_t> input, size_t size) {
    auto job = std::make_shared<Job>();
    job->input = std::move(input);
    job->input_size = size;
    job->decompressed_size = static_cast<uint32_t>(size);
    std::unique_lock lock(mutex_);
    if (!spare_outputs_.empty()) {
        job->output = std::move(spare_outputs_.back());
        spare_outputs_.pop_back();
    }
    in_order_.push_back(job);
    todo_.push_back(std::move(job));
    work_ready_.notify_one();
    return emit_ready(lock, false);
}

Status OrderedCompressor::submit_compressed(std::shared_ptr<const std::vector<uint8_t>> frame,
                                            uint32_t decompressed_size) {
    auto job = std::make_shared<Job>();
    job->precompressed = std::move(frame);
    job->decompressed_size = decompressed_size;
    job->done = true;
    std::unique_lock lock(mutex_);
    in_order_.push_back(std::move(job));
    return emit_ready(lock, false);
}

Status OrderedCompressor::drain() {
    std::unique_lock lock(mutex_);
    return emit_ready(lock, true);
}

std::vector<uint8_t> OrderedCompressor::take_buffer(size_t size) {
    std::vector<uint8_t> buffer;
    {
        std::lock_guard lock(mutex_);
        if (!spare_.empty()) {
            buffer = std::move(spare_.back());
            spare_.pop_back();
        }
    }
    if (buffer.size() < size) buffer.resize(size);
    return buffer;
}

}  // namespace dumpscope::compress
