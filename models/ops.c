/* ops.c — the operator registry: names, arity and attribute schemas of the supported ops.
 *
 * Owns: immutable tables only. Schemas cover ONNX opsets 11 to 21: where an attribute moved
 * to an input across versions (Squeeze axes, Split split, Reduce* axes, Clip min/max), both
 * forms are listed and the shape pass reads whichever is present.
 * Threading: read-only data, safe from any thread.
 */
#include "models/ops.h"

#include <string.h> /* strcmp */

#define A_END {NULL, 0, false}
#define F(n) {n, BL_ATTR_FLOAT, false}
#define I(n) {n, BL_ATTR_INT, false}
#define S(n) {n, BL_ATTR_STRING, false}
#define T(n) {n, BL_ATTR_TENSOR, false}
#define FS(n) {n, BL_ATTR_FLOATS, false}
#define IS(n) {n, BL_ATTR_INTS, false}

static const bl_attr_schema k_none[] = {A_END};
static const bl_attr_schema k_conv[] = {S("auto_pad"), IS("dilations"), I("group"), IS("kernel_shape"),
                                        IS("pads"), IS("strides"), A_END};
static const bl_attr_schema k_convt[] = {S("auto_pad"), IS("dilations"), I("group"), IS("kernel_shape"),
                                         IS("output_padding"), IS("output_shape"), IS("pads"),
                                         IS("strides"), A_END};
static const bl_attr_schema k_bn[] = {F("epsilon"), F("momentum"), I("training_mode"), I("spatial"), A_END};
static const bl_attr_schema k_alpha[] = {F("alpha"), A_END};
static const bl_attr_schema k_selu[] = {F("alpha"), F("gamma"), A_END};
static const bl_attr_schema k_clip[] = {F("min"), F("max"), A_END};
static const bl_attr_schema k_hsig[] = {F("alpha"), F("beta"), A_END};
static const bl_attr_schema k_gelu[] = {S("approximate"), A_END};
static const bl_attr_schema k_maxpool[] = {S("auto_pad"), I("ceil_mode"), IS("dilations"), IS("kernel_shape"),
                                           IS("pads"), I("storage_order"), IS("strides"), A_END};
static const bl_attr_schema k_avgpool[] = {S("auto_pad"), I("ceil_mode"), I("count_include_pad"),
                                           IS("dilations"), IS("kernel_shape"), IS("pads"), IS("strides"),
                                           A_END};
static const bl_attr_schema k_reduce[] = {IS("axes"), I("keepdims"), I("noop_with_empty_axes"), A_END};
static const bl_attr_schema k_gemm[] = {F("alpha"), F("beta"), I("transA"), I("transB"), A_END};
static const bl_attr_schema k_axis[] = {I("axis"), A_END};
static const bl_attr_schema k_reshape[] = {I("allowzero"), A_END};
static const bl_attr_schema k_axes[] = {IS("axes"), A_END};
static const bl_attr_schema k_transpose[] = {IS("perm"), A_END};
static const bl_attr_schema k_concat[] = {{"axis", BL_ATTR_INT, true}, A_END};
static const bl_attr_schema k_split[] = {I("axis"), IS("split"), I("num_outputs"), A_END};
static const bl_attr_schema k_pad[] = {S("mode"), A_END};
static const bl_attr_schema k_dropout[] = {F("ratio"), I("seed"), A_END};
static const bl_attr_schema k_constant[] = {T("value"), F("value_float"), FS("value_floats"), I("value_int"),
                                            IS("value_ints"), A_END};
static const bl_attr_schema k_cos[] = {T("value"), A_END};
static const bl_attr_schema k_shape[] = {I("start"), I("end"), A_END};
static const bl_attr_schema k_cast[] = {{"to", BL_ATTR_INT, true}, I("saturate"), A_END};
static const bl_attr_schema k_resize[] = {S("mode"), S("coordinate_transformation_mode"), F("cubic_coeff_a"),
                                          I("exclude_outside"), F("extrapolation_value"), S("nearest_mode"),
                                          I("antialias"), IS("axes"), S("keep_aspect_ratio_policy"), A_END};
static const bl_attr_schema k_eps[] = {F("epsilon"), A_END};
static const bl_attr_schema k_layernorm[] = {I("axis"), F("epsilon"), I("stash_type"), A_END};

/* Indexed by bl_op. {name, min_in, max_in, min_out, max_out, attrs} */
static const bl_op_schema k_schemas[BL_OP_COUNT] = {
    [BL_OP_CONV] = {"Conv", 2, 3, 1, 1, k_conv},
    [BL_OP_CONV_TRANSPOSE] = {"ConvTranspose", 2, 3, 1, 1, k_convt},
    [BL_OP_BATCH_NORM] = {"BatchNormalization", 5, 5, 1, 3, k_bn},
    [BL_OP_RELU] = {"Relu", 1, 1, 1, 1, k_none},
    [BL_OP_LEAKY_RELU] = {"LeakyRelu", 1, 1, 1, 1, k_alpha},
    [BL_OP_PRELU] = {"PRelu", 2, 2, 1, 1, k_none},
    [BL_OP_ELU] = {"Elu", 1, 1, 1, 1, k_alpha},
    [BL_OP_SELU] = {"Selu", 1, 1, 1, 1, k_selu},
    [BL_OP_CLIP] = {"Clip", 1, 3, 1, 1, k_clip},
    [BL_OP_SIGMOID] = {"Sigmoid", 1, 1, 1, 1, k_none},
    [BL_OP_HARD_SIGMOID] = {"HardSigmoid", 1, 1, 1, 1, k_hsig},
    [BL_OP_HARD_SWISH] = {"HardSwish", 1, 1, 1, 1, k_none},
    [BL_OP_TANH] = {"Tanh", 1, 1, 1, 1, k_none},
    [BL_OP_SOFTPLUS] = {"Softplus", 1, 1, 1, 1, k_none},
    [BL_OP_ERF] = {"Erf", 1, 1, 1, 1, k_none},
    [BL_OP_GELU] = {"Gelu", 1, 1, 1, 1, k_gelu},
    [BL_OP_ADD] = {"Add", 2, 2, 1, 1, k_none},
    [BL_OP_SUB] = {"Sub", 2, 2, 1, 1, k_none},
    [BL_OP_MUL] = {"Mul", 2, 2, 1, 1, k_none},
    [BL_OP_DIV] = {"Div", 2, 2, 1, 1, k_none},
    [BL_OP_POW] = {"Pow", 2, 2, 1, 1, k_none},
    [BL_OP_SQRT] = {"Sqrt", 1, 1, 1, 1, k_none},
    [BL_OP_EXP] = {"Exp", 1, 1, 1, 1, k_none},
    [BL_OP_LOG] = {"Log", 1, 1, 1, 1, k_none},
    [BL_OP_NEG] = {"Neg", 1, 1, 1, 1, k_none},
    [BL_OP_ABS] = {"Abs", 1, 1, 1, 1, k_none},
    [BL_OP_MIN] = {"Min", 1, 64, 1, 1, k_none},
    [BL_OP_MAX] = {"Max", 1, 64, 1, 1, k_none},
    [BL_OP_MAX_POOL] = {"MaxPool", 1, 1, 1, 2, k_maxpool},
    [BL_OP_AVERAGE_POOL] = {"AveragePool", 1, 1, 1, 1, k_avgpool},
    [BL_OP_GLOBAL_AVERAGE_POOL] = {"GlobalAveragePool", 1, 1, 1, 1, k_none},
    [BL_OP_GLOBAL_MAX_POOL] = {"GlobalMaxPool", 1, 1, 1, 1, k_none},
    [BL_OP_REDUCE_MEAN] = {"ReduceMean", 1, 2, 1, 1, k_reduce},
    [BL_OP_REDUCE_MAX] = {"ReduceMax", 1, 2, 1, 1, k_reduce},
    [BL_OP_REDUCE_SUM] = {"ReduceSum", 1, 2, 1, 1, k_reduce},
    [BL_OP_REDUCE_L2] = {"ReduceL2", 1, 2, 1, 1, k_reduce},
    [BL_OP_GEMM] = {"Gemm", 2, 3, 1, 1, k_gemm},
    [BL_OP_MATMUL] = {"MatMul", 2, 2, 1, 1, k_none},
    [BL_OP_FLATTEN] = {"Flatten", 1, 1, 1, 1, k_axis},
    [BL_OP_RESHAPE] = {"Reshape", 2, 2, 1, 1, k_reshape},
    [BL_OP_SQUEEZE] = {"Squeeze", 1, 2, 1, 1, k_axes},
    [BL_OP_UNSQUEEZE] = {"Unsqueeze", 1, 2, 1, 1, k_axes},
    [BL_OP_TRANSPOSE] = {"Transpose", 1, 1, 1, 1, k_transpose},
    [BL_OP_CONCAT] = {"Concat", 1, 1024, 1, 1, k_concat},
    [BL_OP_SPLIT] = {"Split", 1, 2, 1, 1024, k_split},
    [BL_OP_SLICE] = {"Slice", 3, 5, 1, 1, k_none},
    [BL_OP_GATHER] = {"Gather", 2, 2, 1, 1, k_axis},
    [BL_OP_PAD] = {"Pad", 2, 4, 1, 1, k_pad},
    [BL_OP_SOFTMAX] = {"Softmax", 1, 1, 1, 1, k_axis},
    [BL_OP_LOG_SOFTMAX] = {"LogSoftmax", 1, 1, 1, 1, k_axis},
    [BL_OP_DROPOUT] = {"Dropout", 1, 3, 1, 2, k_dropout},
    [BL_OP_IDENTITY] = {"Identity", 1, 1, 1, 1, k_none},
    [BL_OP_CONSTANT] = {"Constant", 0, 0, 1, 1, k_constant},
    [BL_OP_SHAPE] = {"Shape", 1, 1, 1, 1, k_shape},
    [BL_OP_CAST] = {"Cast", 1, 1, 1, 1, k_cast},
    [BL_OP_RESIZE] = {"Resize", 1, 4, 1, 1, k_resize},
    [BL_OP_INSTANCE_NORM] = {"InstanceNormalization", 3, 3, 1, 1, k_eps},
    [BL_OP_LAYER_NORM] = {"LayerNormalization", 2, 3, 1, 3, k_layernorm},
    /* The file gives 1 input; the loader appends the `value` attribute as a constant
     * input 1 (graph.h), so the IR node has 2. */
    [BL_OP_CONSTANT_OF_SHAPE] = {"ConstantOfShape", 1, 1, 1, 1, k_cos},
};

/* Compile-time ", Conv, ConvTranspose, ..., LayerNormalization"; the accessor skips ", ". */
#define BL_OP_LIST_(id, name) ", " name
static const char k_supported[] = BL_OP_TABLE(BL_OP_LIST_);
#undef BL_OP_LIST_
#define BL_OP_NAME_(id, name) name,
static const char *const k_names[BL_OP_COUNT] = {"none", BL_OP_TABLE(BL_OP_NAME_)};
#undef BL_OP_NAME_

bl_op bl_op_from_name(const char *op_type) {
    if (!op_type) return BL_OP_NONE;
    for (int i = 1; i < BL_OP_COUNT; i++)
        if (!strcmp(k_names[i], op_type)) return (bl_op)i;
    return BL_OP_NONE;
}

const char *bl_op_name(bl_op op) {
    if ((int)op < 0 || op >= BL_OP_COUNT) return "?";
    return k_names[op];
}

const bl_op_schema *bl_op_schema_get(bl_op op) {
    if ((int)op <= 0 || op >= BL_OP_COUNT) return NULL;
    return &k_schemas[op];
}

const bl_attr_schema *bl_op_attr_schema(bl_op op, const char *attr_name) {
    const bl_op_schema *s = bl_op_schema_get(op);
    if (!s || !attr_name) return NULL;
    for (const bl_attr_schema *a = s->attrs; a->name; a++)
        if (!strcmp(a->name, attr_name)) return a;
    return NULL;
}

const char *bl_op_supported_list(void) { return k_supported + 2; }

const char *bl_attr_type_name(bl_attr_type t) {
    switch (t) {
    case BL_ATTR_FLOAT: return "float";
    case BL_ATTR_INT: return "int";
    case BL_ATTR_STRING: return "string";
    case BL_ATTR_TENSOR: return "tensor";
    case BL_ATTR_FLOATS: return "floats";
    case BL_ATTR_INTS: return "ints";
    }
    return "unknown";
}
