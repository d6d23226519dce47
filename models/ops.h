/* ops.h — the operator registry: every ONNX operator baleen supports, with its attribute
 * schema and input/output arity.
 *
 * Defines: bl_op (one value per supported op, generated from BL_OP_TABLE), bl_attr_type,
 * bl_attr_schema, bl_op_schema, and lookups by name. The table is the single source of
 * truth for "what baleen can run": the loader rejects any other op with this list.
 *
 * Threading: everything here is immutable (const tables); safe from any thread.
 */
#ifndef BL_OPS_H
#define BL_OPS_H

#include <stdbool.h>
#include <stddef.h>

/* X(ID, "OnnxName") — the required ops of the models issue (float32), in its order. */
#define BL_OP_TABLE(X)                                                                      \
    X(CONV, "Conv") X(CONV_TRANSPOSE, "ConvTranspose") X(BATCH_NORM, "BatchNormalization")  \
    X(RELU, "Relu") X(LEAKY_RELU, "LeakyRelu") X(PRELU, "PRelu") X(ELU, "Elu")              \
    X(SELU, "Selu") X(CLIP, "Clip") X(SIGMOID, "Sigmoid") X(HARD_SIGMOID, "HardSigmoid")    \
    X(HARD_SWISH, "HardSwish") X(TANH, "Tanh") X(SOFTPLUS, "Softplus") X(ERF, "Erf")        \
    X(GELU, "Gelu") X(ADD, "Add") X(SUB, "Sub") X(MUL, "Mul") X(DIV, "Div") X(POW, "Pow")   \
    X(SQRT, "Sqrt") X(EXP, "Exp") X(LOG, "Log") X(NEG, "Neg") X(ABS, "Abs") X(MIN, "Min")   \
    X(MAX, "Max") X(MAX_POOL, "MaxPool") X(AVERAGE_POOL, "AveragePool")                     \
    X(GLOBAL_AVERAGE_POOL, "GlobalAveragePool") X(GLOBAL_MAX_POOL, "GlobalMaxPool")         \
    X(REDUCE_MEAN, "ReduceMean") X(REDUCE_MAX, "ReduceMax") X(REDUCE_SUM, "ReduceSum")      \
    X(REDUCE_L2, "ReduceL2") X(GEMM, "Gemm") X(MATMUL, "MatMul") X(FLATTEN, "Flatten")      \
    X(RESHAPE, "Reshape") X(SQUEEZE, "Squeeze") X(UNSQUEEZE, "Unsqueeze")                   \
    X(TRANSPOSE, "Transpose") X(CONCAT, "Concat") X(SPLIT, "Split") X(SLICE, "Slice")       \
    X(GATHER, "Gather") X(PAD, "Pad") X(SOFTMAX, "Softmax") X(LOG_SOFTMAX, "LogSoftmax")    \
    X(DROPOUT, "Dropout") X(IDENTITY, "Identity") X(CONSTANT, "Constant") X(SHAPE, "Shape") \
    X(CAST, "Cast") X(RESIZE, "Resize") X(INSTANCE_NORM, "InstanceNormalization")           \
    X(LAYER_NORM, "LayerNormalization") X(CONSTANT_OF_SHAPE, "ConstantOfShape")

typedef enum {
    BL_OP_NONE = 0, /* "no op": also the value of bl_node.fused_act when nothing is fused */
#define BL_OP_ENUM_(id, name) BL_OP_##id,
    BL_OP_TABLE(BL_OP_ENUM_)
#undef BL_OP_ENUM_
    BL_OP_COUNT
} bl_op;

/* Attribute value kinds baleen keeps (ONNX AttributeProto types it understands). */
typedef enum {
    BL_ATTR_FLOAT = 1,
    BL_ATTR_INT = 2,
    BL_ATTR_STRING = 3,
    BL_ATTR_TENSOR = 4,
    BL_ATTR_FLOATS = 6,
    BL_ATTR_INTS = 7,
} bl_attr_type; /* values equal onnx.AttributeProto.AttributeType */

typedef struct {
    const char *name;
    bl_attr_type type;
    bool required;
} bl_attr_schema;

typedef struct {
    const char *name;             /* ONNX op_type */
    int min_inputs, max_inputs;   /* counting omitted optional inputs ("") as present slots */
    int min_outputs, max_outputs;
    const bl_attr_schema *attrs;  /* terminated by an entry with name == NULL */
} bl_op_schema;

/* Op for an ONNX op_type of the default domain; BL_OP_NONE when unsupported. */
bl_op bl_op_from_name(const char *op_type);
/* ONNX name of an op ("Conv"); "none" for BL_OP_NONE, "?" when out of range. */
const char *bl_op_name(bl_op op);
/* Schema of a supported op; NULL for BL_OP_NONE or out of range. */
const bl_op_schema *bl_op_schema_get(bl_op op);
/* Attribute schema entry for (op, name); NULL when the op has no such attribute. */
const bl_attr_schema *bl_op_attr_schema(bl_op op, const char *attr_name);
/* "Conv, ConvTranspose, ..., LayerNormalization": the supported list for error messages. */
const char *bl_op_supported_list(void);
/* Name of an attribute type ("int", "floats", ...). */
const char *bl_attr_type_name(bl_attr_type t);

#endif
