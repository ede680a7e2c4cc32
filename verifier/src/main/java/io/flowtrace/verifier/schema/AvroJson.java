package io.flowtrace.verifier.schema;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.Collection;
import java.util.Map;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericFixed;
import org.apache.avro.generic.IndexedRecord;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Converts a datum read by a {@code GenericDatumReader} into a Jackson tree: records and maps
 * become objects, enums and strings text, unions the value of their branch (not wrapped), {@code
 * bytes}/{@code fixed} base64 text (or a number when they carry a {@code decimal} logical type).
 */
final class AvroJson {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private AvroJson() {}

  static JsonNode toJson(Object datum, Schema schema) {
    switch (schema.getType()) {
      case RECORD:
        {
          IndexedRecord record = (IndexedRecord) datum;
          ObjectNode out = NODES.objectNode();
          for (Schema.Field field : schema.getFields()) {
            out.set(field.name(), toJson(record.get(field.pos()), field.schema()));
          }
          return out;
        }
      case ENUM:
      case STRING:
        return NODES.stringNode(datum.toString());
      case ARRAY:
        {
          ArrayNode out = NODES.arrayNode();
          for (Object element : (Collection<?>) datum) {
            out.add(toJson(element, schema.getElementType()));
          }
          return out;
        }
      case MAP:
        {
          ObjectNode out = NODES.objectNode();
          for (Map.Entry<?, ?> entry : ((Map<?, ?>) datum).entrySet()) {
            out.set(entry.getKey().toString(), toJson(entry.getValue(), schema.getValueType()));
          }
          return out;
        }
      case UNION:
        {
          int branch;
          try {
            branch = GenericData.get().resolveUnion(schema, datum);
          } catch (AvroRuntimeException e) {
            return untyped(datum);
          }
          return toJson(datum, schema.getTypes().get(branch));
        }
      case FIXED:
        return binary(((GenericFixed) datum).bytes(), schema);
      case BYTES:
        {
          ByteBuffer buffer = ((ByteBuffer) datum).duplicate();
          byte[] bytes = new byte[buffer.remaining()];
          buffer.get(bytes);
          return binary(bytes, schema);
        }
      case INT:
        return NODES.numberNode(((Number) datum).intValue());
      case LONG:
        return NODES.numberNode(((Number) datum).longValue());
      case FLOAT:
        return NODES.numberNode(((Number) datum).floatValue());
      case DOUBLE:
        return NODES.numberNode(((Number) datum).doubleValue());
      case BOOLEAN:
        return NODES.booleanNode((Boolean) datum);
      case NULL:
      default:
        return datum == null ? NODES.nullNode() : untyped(datum);
    }
  }

  private static JsonNode binary(byte[] bytes, Schema schema) {
    LogicalType logicalType = schema.getLogicalType();
    if (logicalType instanceof LogicalTypes.Decimal decimal) {
      return NODES.numberNode(new BigDecimal(new BigInteger(bytes), decimal.getScale()));
    }
    return NODES.stringNode(Base64.getEncoder().encodeToString(bytes));
  }

  /** Fallback when the schema cannot say what a value is: go by its Java type. */
  private static JsonNode untyped(Object datum) {
    if (datum == null) {
      return NODES.nullNode();
    }
    if (datum instanceof IndexedRecord record) {
      return toJson(record, record.getSchema());
    }
    if (datum instanceof Boolean b) {
      return NODES.booleanNode(b);
    }
    if (datum instanceof Integer i) {
      return NODES.numberNode(i);
    }
    if (datum instanceof Long l) {
      return NODES.numberNode(l);
    }
    if (datum instanceof Number n) {
      return NODES.numberNode(n.doubleValue());
    }
    return NODES.stringNode(datum.toString());
  }
}
