// A stand-in for NVIDIA's driver library (libcuda.so), for checking burn's CUDA backend on a
// machine without a GPU (bench/gpu/check-cuda.sh). It reports one H100-like device (compute
// capability 9.0), keeps "device" memory in host memory, and runs no kernel: a launch only checks
// its shape against the device's limits. What it exists for is everything before a launch, which
// is real: cubecl turns each kernel into CUDA C++, NVIDIA's NVRTC (the real library, from PyPI)
// compiles it to PTX, and cuModuleLoadData writes that PTX to $FAKE_CUDA_PTX_DIR, where the
// script hands it to ptxas, the assembler the driver would use.
//
// Only what is called is here, 38 functions: by cubecl-cuda, by cudarc for its error messages,
// and by NVRTC (cuInit, cuGetExportTable); the benchmark's models use 23 of them. cudarc loads each driver function by name when first called,
// and panics naming one that is missing ("Missing symbol cu..."): cubecl's tensor-memory (TMA)
// kernels would want cuTensorMapEncode*, which these models do not reach.
//
//   cc -shared -fPIC -O2 -o libcuda.so.1 fake-libcuda.c
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef void *CUcontext, *CUstream, *CUevent;

enum {
  CUDA_SUCCESS = 0,
  CUDA_ERROR_INVALID_VALUE = 1,
  CUDA_ERROR_OUT_OF_MEMORY = 2,
  CUDA_ERROR_INVALID_DEVICE = 101,
  CUDA_ERROR_INVALID_IMAGE = 200,
  CUDA_ERROR_NOT_FOUND = 500,
  CUDA_ERROR_NOT_SUPPORTED = 801,
};

// The limits of an H100 SXM, as its driver reports them; an H200's are the same (more memory).
#define MAX_THREADS_PER_BLOCK 1024
#define MAX_BLOCK_DIM_XY 1024
#define MAX_BLOCK_DIM_Z 64
#define MAX_GRID_DIM_X 2147483647
#define MAX_GRID_DIM_YZ 65535
#define MAX_SHARED_DEFAULT (48 * 1024)
#define MAX_SHARED_OPTIN (227 * 1024)
#define TOTAL_MEMORY (80ull << 30)

static int attribute(int attrib) {
  switch (attrib) {
    case 1: return MAX_THREADS_PER_BLOCK;
    case 2: case 3: return MAX_BLOCK_DIM_XY;
    case 4: return MAX_BLOCK_DIM_Z;
    case 5: return MAX_GRID_DIM_X;
    case 6: case 7: return MAX_GRID_DIM_YZ;
    case 8: return MAX_SHARED_DEFAULT;
    case 10: return 32;              // warp size
    case 12: return 65536;           // registers per block
    case 16: return 132;             // multiprocessors
    case 75: return 9;               // compute capability, major
    case 76: return 0;               // and minor
    case 81: return 228 * 1024;      // shared memory per multiprocessor
    case 97: return MAX_SHARED_OPTIN;
    case 115: return 1;              // memory pools
    default: return 0;
  }
}

CUresult cuInit(unsigned flags) { (void)flags; return CUDA_SUCCESS; }
// NVRTC itself opens libcuda.so.1 for its compile cache and asks for the driver's private tables;
// without this function it reads through a null pointer (NVRTC 13.0), with an error it goes on.
CUresult cuGetExportTable(const void **table, const void *id) {
  (void)id;
  *table = NULL;
  return CUDA_ERROR_NOT_SUPPORTED;
}
CUresult cuDeviceGetCount(int *count) { *count = 1; return CUDA_SUCCESS; }

CUresult cuDeviceGet(CUdevice *device, int ordinal) {
  if (ordinal != 0) return CUDA_ERROR_INVALID_DEVICE;
  *device = 0;
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetAttribute(int *value, int attrib, CUdevice device) {
  (void)device;
  *value = attribute(attrib);
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetName(char *name, int len, CUdevice device) {
  (void)device;
  snprintf(name, (size_t)len, "NVIDIA H100 80GB HBM3 (stand-in driver, no GPU)");
  return CUDA_SUCCESS;
}

CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice device) {
  (void)device;
  *bytes = TOTAL_MEMORY;
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetPCIBusId(char *id, int len, CUdevice device) {
  (void)device;
  snprintf(id, (size_t)len, "0000:00:00.0");
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetLuid(char *luid, unsigned *mask, CUdevice device) {
  (void)luid; (void)mask; (void)device;
  return CUDA_ERROR_NOT_SUPPORTED;  // as on Linux
}

static int the_context;
CUresult cuDevicePrimaryCtxRetain(CUcontext *ctx, CUdevice device) {
  (void)device;
  *ctx = &the_context;
  return CUDA_SUCCESS;
}
CUresult cuCtxSetCurrent(CUcontext ctx) { (void)ctx; return CUDA_SUCCESS; }
CUresult cuCtxGetStreamPriorityRange(int *least, int *greatest) {
  *least = 0;
  *greatest = -5;
  return CUDA_SUCCESS;
}

// Streams and events: the work is done (or skipped) when it is queued, so all wait for nothing.
static int a_stream, an_event;
CUresult cuStreamCreate(CUstream *stream, unsigned flags) {
  (void)flags;
  *stream = &a_stream;
  return CUDA_SUCCESS;
}
CUresult cuStreamCreateWithPriority(CUstream *stream, unsigned flags, int priority) {
  (void)priority;
  return cuStreamCreate(stream, flags);
}
CUresult cuStreamDestroy_v2(CUstream stream) { (void)stream; return CUDA_SUCCESS; }
CUresult cuStreamSynchronize(CUstream stream) { (void)stream; return CUDA_SUCCESS; }
CUresult cuStreamWaitEvent(CUstream stream, CUevent event, unsigned flags) {
  (void)stream; (void)event; (void)flags;
  return CUDA_SUCCESS;
}
CUresult cuEventCreate(CUevent *event, unsigned flags) {
  (void)flags;
  *event = &an_event;
  return CUDA_SUCCESS;
}
CUresult cuEventDestroy_v2(CUevent event) { (void)event; return CUDA_SUCCESS; }
CUresult cuEventRecord(CUevent event, CUstream stream) { (void)event; (void)stream; return CUDA_SUCCESS; }
CUresult cuEventSynchronize(CUevent event) { (void)event; return CUDA_SUCCESS; }
CUresult cuEventElapsedTime(float *ms, CUevent start, CUevent end) {
  (void)start; (void)end;
  *ms = 0.001f;
  return CUDA_SUCCESS;
}

// Memory: "device" pointers are host pointers, so copies of any direction are memcpy. Zeroed: no
// kernel runs, so a kernel's output reads back as whatever the memory held, and some code acts on
// it (burn's one_hot casts the largest index it reads back, and heap leftovers that are NaN or
// huge made that panic at random; bench/README.md).
static CUresult allocate(void **ptr, size_t size) {
  size_t rounded = (size + 511) / 512 * 512;
  *ptr = aligned_alloc(512, rounded);
  if (*ptr == NULL) return CUDA_ERROR_OUT_OF_MEMORY;
  memset(*ptr, 0, rounded);
  return CUDA_SUCCESS;
}
CUresult cuMemAlloc_v2(CUdeviceptr *ptr, size_t size) { return allocate((void **)ptr, size); }
CUresult cuMemAllocAsync(CUdeviceptr *ptr, size_t size, CUstream stream) {
  (void)stream;
  return allocate((void **)ptr, size);
}
CUresult cuMemAllocHost_v2(void **ptr, size_t size) { return allocate(ptr, size); }
CUresult cuMemFree_v2(CUdeviceptr ptr) { free((void *)ptr); return CUDA_SUCCESS; }
CUresult cuMemFreeAsync(CUdeviceptr ptr, CUstream stream) { (void)stream; return cuMemFree_v2(ptr); }
CUresult cuMemFreeHost(void *ptr) { free(ptr); return CUDA_SUCCESS; }

CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void *src, size_t n, CUstream stream) {
  (void)stream;
  memcpy((void *)dst, src, n);
  return CUDA_SUCCESS;
}
CUresult cuMemcpyDtoHAsync_v2(void *dst, CUdeviceptr src, size_t n, CUstream stream) {
  (void)stream;
  memcpy(dst, (const void *)src, n);
  return CUDA_SUCCESS;
}
CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream stream) {
  (void)stream;
  memmove((void *)dst, (const void *)src, n);
  return CUDA_SUCCESS;
}

typedef struct {
  size_t srcXInBytes, srcY;
  int srcMemoryType;
  const void *srcHost;
  CUdeviceptr srcDevice;
  void *srcArray;
  size_t srcPitch;
  size_t dstXInBytes, dstY;
  int dstMemoryType;
  void *dstHost;
  CUdeviceptr dstDevice;
  void *dstArray;
  size_t dstPitch;
  size_t WidthInBytes, Height;
} CUDA_MEMCPY2D;

CUresult cuMemcpy2DAsync_v2(const CUDA_MEMCPY2D *copy, CUstream stream) {
  (void)stream;
  enum { HOST = 1 };
  const char *src = copy->srcMemoryType == HOST ? copy->srcHost : (const void *)copy->srcDevice;
  char *dst = copy->dstMemoryType == HOST ? copy->dstHost : (void *)copy->dstDevice;
  src += copy->srcY * copy->srcPitch + copy->srcXInBytes;
  dst += copy->dstY * copy->dstPitch + copy->dstXInBytes;
  for (size_t row = 0; row < copy->Height; row++)
    memcpy(dst + row * copy->dstPitch, src + row * copy->srcPitch, copy->WidthInBytes);
  return CUDA_SUCCESS;
}

// Modules: the PTX NVRTC made, written out for ptxas; a function must be an entry of its module.
typedef struct {
  char *ptx;
} Module;
typedef struct {
  int max_dynamic_shared;
} Function;

static atomic_int modules_loaded;

CUresult cuModuleLoadData(Module **module, const void *image) {
  const char *ptx = image;
  if (strncmp(ptx, "//", 2) != 0 && strstr(ptx, ".version") == NULL) return CUDA_ERROR_INVALID_IMAGE;
  const char *dir = getenv("FAKE_CUDA_PTX_DIR");
  if (dir != NULL) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%05d.ptx", dir, atomic_fetch_add(&modules_loaded, 1));
    FILE *file = fopen(path, "w");
    if (file == NULL) {
      fprintf(stderr, "stand-in libcuda: cannot write %s\n", path);
      return CUDA_ERROR_INVALID_VALUE;
    }
    fputs(ptx, file);
    fclose(file);
  }
  *module = malloc(sizeof(Module));
  (*module)->ptx = strdup(ptx);
  return CUDA_SUCCESS;
}

CUresult cuModuleGetFunction(Function **function, Module *module, const char *name) {
  char entry[1024];
  snprintf(entry, sizeof entry, ".entry %s(", name);
  if (strstr(module->ptx, entry) == NULL) return CUDA_ERROR_NOT_FOUND;
  *function = calloc(1, sizeof(Function));
  return CUDA_SUCCESS;
}

CUresult cuFuncSetAttribute(Function *function, int attrib, int value) {
  enum { MAX_DYNAMIC_SHARED_SIZE_BYTES = 8 };
  if (attrib == MAX_DYNAMIC_SHARED_SIZE_BYTES) {
    if (value > MAX_SHARED_OPTIN) return CUDA_ERROR_INVALID_VALUE;
    function->max_dynamic_shared = value;
  }
  return CUDA_SUCCESS;
}

// A launch runs nothing; it fails where the driver would on the shape alone.
CUresult cuLaunchKernel(Function *function, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                        unsigned by, unsigned bz, unsigned shared, CUstream stream, void **params,
                        void **extra) {
  (void)stream; (void)params; (void)extra;
  int limit = function->max_dynamic_shared > MAX_SHARED_DEFAULT ? function->max_dynamic_shared
                                                                 : MAX_SHARED_DEFAULT;
  if (bx * by * bz > MAX_THREADS_PER_BLOCK || bx > MAX_BLOCK_DIM_XY || by > MAX_BLOCK_DIM_XY ||
      bz > MAX_BLOCK_DIM_Z || gy > MAX_GRID_DIM_YZ || gz > MAX_GRID_DIM_YZ || gx == 0 || gy == 0 ||
      gz == 0 || bx * by * bz == 0 || shared > (unsigned)limit)
    return CUDA_ERROR_INVALID_VALUE;
  return CUDA_SUCCESS;
}

CUresult cuGetErrorName(CUresult error, const char **name) {
  static char text[32];
  snprintf(text, sizeof text, "CUresult %d", error);
  *name = text;
  return CUDA_SUCCESS;
}
CUresult cuGetErrorString(CUresult error, const char **string) { return cuGetErrorName(error, string); }
