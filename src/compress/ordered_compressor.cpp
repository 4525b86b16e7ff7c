#include "compress/ordered_compressor.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>

namespace dumpscope::compress {

struct OrderedCompressor::Job {
    std::vector<uint8_t> input;
    size_t input_size = 0;
    std::vector<uint8_t> output;  // the frame is output[0, output_size)
    size_t output_size = 0;
    std::shared_ptr<const std::vector<uint8_t>> precompressed;
    uint32_t decompressed_size = 0;
    int spill_fd = -1;  // the input is in this file at spill_offset until a worker reads it
    uint64_t spill_offset = 0;
    bool in_memory = false;  // counted in in_memory_
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
    max_active_ = threads;
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
        work_ready_.wait(lock,
                         [&] { return stopping_ || (!todo_.empty() && active_ < max_active_); });
        if (stopping_) return;
        std::shared_ptr<Job> job = std::move(todo_.front());
        todo_.pop_front();
        ++active_;
        if (job->spill_fd >= 0 && !spare_.empty()) {
            job->input = std::move(spare_.back());
            spare_.pop_back();
        }
        if (job->output.empty() && !spare_outputs_.empty()) {
            job->output = std::move(spare_outputs_.back());
            spare_outputs_.pop_back();
        }
        lock.unlock();
        std::string error = job->spill_fd >= 0 ? read_spilled(*job) : std::string();
        if (error.empty()) {
            error = compress_into(cctx.get(),
                                  std::span<const uint8_t>(job->input.data(), job->input_size),
                                  job->output, &job->output_size);
        }
        lock.lock();
        job->error = std::move(error);
        job->done = true;
        --active_;
        job_done_.notify_all();
        work_ready_.notify_one();  // a worker held back by max_active_ may go
    }
}

Status OrderedCompressor::emit_ready(std::unique_lock<std::mutex>& lock, bool all, bool wait) {
    for (;;) {
        if (in_order_.empty()) return {};
        if (!in_order_.front()->done) {
            if (!all && (!wait || in_order_.size() <= max_in_flight_)) return {};
            job_done_.wait(lock, [&] { return in_order_.front()->done; });
        }
        std::shared_ptr<Job> job = std::move(in_order_.front());
        in_order_.pop_front();
        if (job->in_memory) --in_memory_;
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

Status OrderedCompressor::submit(std::vector<uint8_t> input, size_t size, bool wait) {
    auto job = std::make_shared<Job>();
    job->input = std::move(input);
    job->input_size = size;
    job->decompressed_size = static_cast<uint32_t>(size);
    job->in_memory = true;
    std::unique_lock lock(mutex_);
    ++in_memory_;
    in_order_.push_back(job);
    todo_.push_back(std::move(job));
    work_ready_.notify_one();
    return emit_ready(lock, false, wait);
}

Status OrderedCompressor::submit_spilled(int fd, uint64_t offset, size_t size) {
    auto job = std::make_shared<Job>();
    job->spill_fd = fd;
    job->spill_offset = offset;
    job->input_size = size;
    job->decompressed_size = static_cast<uint32_t>(size);
    std::unique_lock lock(mutex_);
    in_order_.push_back(job);
    todo_.push_back(std::move(job));
    work_ready_.notify_one();
    return emit_ready(lock, false, false);
}

// On a worker: reads a spilled frame into job.input (zeros where the file has none) and gives
// its disk space back; returns an error message or "".
std::string OrderedCompressor::read_spilled(Job& job) {
    if (job.input.size() < job.input_size) job.input.resize(job.input_size);
    size_t got = 0;
    while (got < job.input_size) {
        const ssize_t n = ::pread(job.spill_fd, job.input.data() + got, job.input_size - got,
                                  static_cast<off_t>(job.spill_offset + got));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            return fmt::format("cannot read back {} bytes at {:#x} of the spill file: {}",
                               job.input_size - got, job.spill_offset + got, std::strerror(errno));
        }
        if (n == 0) break;  // past its end: zeros
        got += static_cast<size_t>(n);
    }
    std::memset(job.input.data() + got, 0, job.input_size - got);
    (void)::fallocate(job.spill_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                      static_cast<off_t>(job.spill_offset), static_cast<off_t>(job.input_size));
    return {};
}

Status OrderedCompressor::submit_compressed(std::shared_ptr<const std::vector<uint8_t>> frame,
                                            uint32_t decompressed_size, bool wait) {
    auto job = std::make_shared<Job>();
    job->precompressed = std::move(frame);
    job->decompressed_size = decompressed_size;
    job->done = true;
    std::unique_lock lock(mutex_);
    in_order_.push_back(std::move(job));
    return emit_ready(lock, false, wait);
}

Status OrderedCompressor::drain() {
    std::unique_lock lock(mutex_);
    return emit_ready(lock, true);
}

void OrderedCompressor::set_max_active(unsigned n) {
    {
        std::lock_guard lock(mutex_);
        max_active_ = std::max(1u, n);
    }
    work_ready_.notify_all();
}

bool OrderedCompressor::has_room() {
    std::lock_guard lock(mutex_);
    return in_memory_ < max_in_flight_;
}

void OrderedCompressor::give_buffer(std::vector<uint8_t> buffer) {
    std::lock_guard lock(mutex_);
    if (spare_.size() < max_in_flight_) spare_.push_back(std::move(buffer));
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
