/* fastlog.h — bl_fast_logf(x), the natural logarithm, and bl_fast_dbf(x) = 10*log10(x): what
 * the front end's log and db compression use, written once for the CPU (core/frontend.c) and the device (kernels/frontend.cu, also
 * built on the host through kernels/emu.h), so that both give the same bits.
 *
 * Why not logf: libm's logf is a call per value that the compiler cannot vectorise (12% of
 * the CPU front end's time), and the device's logf differs from glibc's in the last bits, so
 * CPU and GPU could never agree exactly. This one is branch-free straight-line float and
 * integer code: a loop over an array of floats auto-vectorises (AVX2/AVX-512 on the host).
 *
 * Method (Cephes logf): x = 2^e * m with m in [sqrt(1/2), sqrt(2)) by bit manipulation
 * (denormals scaled by 2^23 first), f = m - 1 (exact), log(1+f) = f - f^2/2 + f^3 P(f) with
 * Cephes' degree-8 polynomial P, and e*ln2 added in two parts (Cody-Waite: 0.693359375 has
 * 9 significant bits, so e times it is exact).
 *
 * Accuracy: at most 2 ulp from the correctly rounded log over all positive normal and
 * subnormal floats (tests/unit/test_frontend.c samples and asserts it; an exhaustive run
 * over every positive float measured 1 ulp at most).
 * Domain: any float. x > 0 (normal or subnormal): the logarithm as above; +inf: +inf;
 * +-0: -inf; x < 0 and NaN: NaN (as logf). The front end only passes S + eps >= eps > 0.
 *
 * Exactness between builds: every multiply and add is written out through BL_FL_MUL /
 * BL_FL_ADD: plain * and + in C (core/ builds with -std=c11, so -ffp-contract=off: no fused
 * multiply-add is formed), __fmul_rn / __fadd_rn under nvcc (which never contracts those).
 * Subtractions are written as additions of a negated constant (a + (-b) == a - b exactly).
 *
 * Owns nothing, no state; callable from any thread.
 */
#ifndef BL_CORE_FASTLOG_H
#define BL_CORE_FASTLOG_H

#ifdef __CUDACC__
#define BL_FL_FN static __device__ __forceinline__
#define BL_FL_MUL(a, b) __fmul_rn((a), (b))
#define BL_FL_ADD(a, b) __fadd_rn((a), (b))
#define BL_FL_AS_U32(x) __float_as_uint(x)
#define BL_FL_AS_F32(u) __uint_as_float(u)
typedef unsigned int bl_fl_u32;
typedef int bl_fl_i32;
#else
#include <stdint.h> /* uint32_t, int32_t for the bit manipulation */
#include <string.h> /* memcpy: type punning without aliasing questions (one move) */
#define BL_FL_FN static inline
#define BL_FL_MUL(a, b) ((a) * (b))
#define BL_FL_ADD(a, b) ((a) + (b))
typedef uint32_t bl_fl_u32;
typedef int32_t bl_fl_i32;
static inline bl_fl_u32 bl_fl_as_u32_(float x) {
    bl_fl_u32 u;
    memcpy(&u, &x, sizeof u);
    return u;
}
static inline float bl_fl_as_f32_(bl_fl_u32 u) {
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}
#define BL_FL_AS_U32(x) bl_fl_as_u32_(x)
#define BL_FL_AS_F32(u) bl_fl_as_f32_(u)
#endif

/* ln(x); see the header comment for accuracy and special values. */
BL_FL_FN float bl_fast_logf(float x) {
    /* Every condition is an integer test on the bits, and results are blended with integer
     * masks: a float comparison or a conditional float operation counts as control flow for
     * GCC's vectoriser (it might trap), and it turns selects into branches around the float
     * work. Written this way, a loop over an array vectorises. */
    bl_fl_u32 ux = BL_FL_AS_U32(x);
    /* subnormal (and +0: fixed below): scale by 2^23, exact; else by 1 */
    int sub = ux < 0x00800000u;
    float scale = BL_FL_AS_F32(0x3f800000u + (bl_fl_u32)sub * 0x0b800000u);
    bl_fl_u32 u = BL_FL_AS_U32(BL_FL_MUL(x, scale));
    bl_fl_u32 mant = u & 0x007fffffu;
    /* x = 2^e * m with m in [sqrt(1/2), sqrt(2)): m's exponent bits are those of 0.5 or,
     * when the mantissa is below that of sqrt(1/2) (0x3f3504f3), those of 1 */
    int lo = mant < 0x003504f3u;
    bl_fl_i32 e = (bl_fl_i32)(u >> 23) - 126 - 23 * sub - lo;
    float m = BL_FL_AS_F32(mant | (0x3f000000u + (bl_fl_u32)lo * 0x00800000u));
    float f = BL_FL_ADD(m, -1.0f);
    float z = BL_FL_MUL(f, f);
    float p = 7.0376836292e-2f;
    p = BL_FL_ADD(BL_FL_MUL(p, f), -1.1514610310e-1f);
    p = BL_FL_ADD(BL_FL_MUL(p, f), 1.1676998740e-1f);
    p = BL_FL_ADD(BL_FL_MUL(p, f), -1.2420140846e-1f);
    p = BL_FL_ADD(BL_FL_MUL(p, f), 1.4249322787e-1f);
    p = BL_FL_ADD(BL_FL_MUL(p, f), -1.6668057665e-1f);
    p = BL_FL_ADD(BL_FL_MUL(p, f), 2.0000714765e-1f);
    p = BL_FL_ADD(BL_FL_MUL(p, f), -2.4999993993e-1f);
    p = BL_FL_ADD(BL_FL_MUL(p, f), 3.3333331174e-1f);
    float fe = (float)e; /* |e| <= 149: exact */
    float y = BL_FL_MUL(BL_FL_MUL(p, f), z);
    y = BL_FL_ADD(y, BL_FL_MUL(fe, -2.12194440e-4f));
    y = BL_FL_ADD(y, BL_FL_MUL(-0.5f, z));
    float r = BL_FL_ADD(f, y);
    r = BL_FL_ADD(r, BL_FL_MUL(fe, 0.693359375f));
    /* special values: +-0 -> -inf, +inf -> +inf, negative or NaN -> NaN; they are the bit
     * patterns with ux - 1 wrapping to 0x7f7fffff or above. Masks: all ones or 0. */
    bl_fl_u32 special = 0u - (bl_fl_u32)(ux - 1u >= 0x7f7fffffu);
    bl_fl_u32 zero = 0u - (bl_fl_u32)((ux & 0x7fffffffu) == 0u);
    bl_fl_u32 inf = 0u - (bl_fl_u32)(ux == 0x7f800000u);
    bl_fl_u32 sv = (0xff800000u & zero) | (0x7f800000u & inf) | (0x7fc00000u & ~(zero | inf));
    bl_fl_u32 rb = (sv & special) | (BL_FL_AS_U32(r) & ~special);
    return BL_FL_AS_F32(rb);
}

/* 10*log10(x) for the db compression: ln(x) * (10/ln 10), one more rounding (accuracy then
 * within 3 ulp; the same special values). */
BL_FL_FN float bl_fast_dbf(float x) { return BL_FL_MUL(bl_fast_logf(x), 4.34294481903251827651f); }

#endif /* BL_CORE_FASTLOG_H */
