// paperhound: spliced into hnswlib-node's addon.cc, before its HierarchicalNSW class, by
// scripts/build-vector-addon.ts (the x86-64-v3 build only, which has F16C). The "cosine-f16" space:
// unit vectors stored as IEEE half floats (2 bytes a component instead of 4), compared by inner
// product in float32 after F16C widens them. hnswlib stores and compares whatever bytes the space
// says (its data size and distance function); the class converts what goes in and comes out.
#if defined(__F16C__) && defined(__FMA__) && defined(__AVX__)
#include <immintrin.h>
#define PAPERHOUND_FLOAT16 1
namespace {

float paperhoundFloat16Distance(const void* a, const void* b, const void* param) {
  const size_t dim = *static_cast<const size_t*>(param);
  const uint16_t* x = static_cast<const uint16_t*>(a);
  const uint16_t* y = static_cast<const uint16_t*>(b);
  __m256 sum0 = _mm256_setzero_ps();
  __m256 sum1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    sum0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i))),
                           _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y + i))), sum0);
    sum1 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i + 8))),
                           _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y + i + 8))), sum1);
  }
  const __m256 sum = _mm256_add_ps(sum0, sum1);
  __m128 half = _mm_add_ps(_mm256_castps256_ps128(sum), _mm256_extractf128_ps(sum, 1));
  half = _mm_hadd_ps(half, half);
  half = _mm_hadd_ps(half, half);
  float dot = _mm_cvtss_f32(half);
  for (; i < dim; i++) dot += _cvtsh_ss(x[i]) * _cvtsh_ss(y[i]);
  return 1.0f - dot;
}

class PaperhoundFloat16Space : public hnswlib::SpaceInterface<float> {
  size_t dim_;

 public:
  explicit PaperhoundFloat16Space(size_t dim) : dim_(dim) {}
  size_t get_data_size() override { return dim_ * sizeof(uint16_t); }
  hnswlib::DISTFUNC<float> get_dist_func() override { return paperhoundFloat16Distance; }
  void* get_dist_func_param() override { return &dim_; }
};

// Rewrites vec's first vec.size() half floats over its own bytes (round to nearest even): half i
// lands at byte 2i, before float i's byte 4i, so nothing is overwritten before it is read.
void paperhoundToFloat16InPlace(std::vector<float>& vec) {
  const size_t dim = vec.size();
  uint16_t* out = reinterpret_cast<uint16_t*>(vec.data());
  size_t i = 0;
  for (; i + 8 <= dim; i += 8) {
    const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(vec.data() + i), _MM_FROUND_TO_NEAREST_INT);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), h);
  }
  for (; i < dim; i++) out[i] = _cvtss_sh(vec[i], _MM_FROUND_TO_NEAREST_INT);
}

}  // namespace
#endif
