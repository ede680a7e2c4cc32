package io.flowtrace.verifier.schema;

import com.asyncapi.schemas.asyncapi.Reference;
import com.asyncapi.schemas.asyncapi.multiformat.MultiFormatSchema;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;

/**
 * An AsyncAPI 2.6 or 3.0 document as read by asyncapi-core, which checks its structure and lists
 * its messages. asyncapi-core binds with Jackson 2 and has no YAML support of its own on our
 * classpath, so the document is read (JSON or YAML) with Jackson 3 and handed over as JSON text.
 * asyncapi-core resolves no {@code $ref}s; {@link RefResolver} does that on the Jackson 3 tree.
 */
final class AsyncApiDocument {
  private static final Pattern V3_0 = Pattern.compile("3\\.0(\\.\\d+)?");
  private static final Pattern V2_6 = Pattern.compile("2\\.6(\\.\\d+)?");

  /** asyncapi-core's mapper: Jackson 2, as the library's annotations require. */
  private static final ObjectMapper ASYNCAPI_CORE = new ObjectMapper();

  private final String version;
  private final Object model;

  private AsyncApiDocument(String version, Object model) {
    this.version = version;
    this.model = model;
  }

  /** Whether {@code tree} claims to be an AsyncAPI document. */
  static boolean isAsyncApi(JsonNode tree) {
    return tree.isObject() && tree.has("asyncapi");
  }

  static AsyncApiDocument read(String display, JsonNode tree) throws SchemaLoadException {
    JsonNode declared = tree.get("asyncapi");
    String version = declared.isValueNode() ? declared.asString() : Json.brief(declared);
    Class<?> modelClass;
    String label;
    if (V3_0.matcher(version).matches()) {
      modelClass = com.asyncapi.v3._0_0.model.AsyncAPI.class;
      label = "AsyncAPI 3.0";
    } else if (V2_6.matcher(version).matches()) {
      modelClass = com.asyncapi.v2._6_0.model.AsyncAPI.class;
      label = "AsyncAPI 2.6";
    } else {
      throw new SchemaLoadException(
          display, "unsupported AsyncAPI version '" + version + "' (supported: 2.6.x, 3.0.x)");
    }
    Object model;
    try {
      model = ASYNCAPI_CORE.readValue(Json.JSON.writeValueAsString(tree), modelClass);
    } catch (JsonProcessingException | RuntimeException e) {
      throw new SchemaLoadException(
          display, "not a valid " + label + " document: " + describe(e), e);
    }
    return new AsyncApiDocument(version, model);
  }

  String version() {
    return version;
  }

  boolean isV3() {
    return model instanceof com.asyncapi.v3._0_0.model.AsyncAPI;
  }

  /** {@code components.messages} by name, in document order; empty if there are none. */
  Map<String, Object> messages() {
    Map<String, Object> messages;
    if (model instanceof com.asyncapi.v3._0_0.model.AsyncAPI v3) {
      messages = v3.getComponents() == null ? null : v3.getComponents().getMessages();
    } else {
      com.asyncapi.v2._6_0.model.AsyncAPI v2 = (com.asyncapi.v2._6_0.model.AsyncAPI) model;
      messages = v2.getComponents() == null ? null : v2.getComponents().getMessages();
    }
    return messages == null ? Map.of() : messages;
  }

  /**
   * The names under {@code components.messages} in document order (asyncapi-core keeps them in a
   * hash map, and drops entries it cannot bind).
   */
  List<String> messageNames(JsonNode tree) {
    List<String> names = new ArrayList<>();
    JsonNode declared = tree.at("/components/messages");
    if (declared.isObject()) {
      names.addAll(declared.propertyNames());
    }
    for (String name : new TreeSet<>(messages().keySet())) {
      if (!names.contains(name)) {
        names.add(name);
      }
    }
    return names;
  }

  /**
   * Checks a {@code components.messages} entry that asyncapi-core dropped. Its map deserializer
   * swallows binding errors (printing a stack trace) and leaves the entry out, which happens both
   * for a malformed message and for a payload its schema model cannot represent (JSON Schema
   * 2019-09/2020-12 keywords, say). The entry is bound again with an empty payload: if that fails,
   * the message itself is malformed and loading fails with asyncapi-core's reason; if it succeeds,
   * only the payload was beyond asyncapi-core, and the payload is checked by its own schema
   * language (networknt's meta-schema, Avro's parser) instead.
   */
  void checkDroppedMessage(String name, JsonNode entry, String display) throws SchemaLoadException {
    if (RefResolver.isRef(entry)) {
      return;
    }
    JsonNode probe = entry;
    if (entry.isObject() && entry.has("payload")) {
      tools.jackson.databind.node.ObjectNode copy =
          (tools.jackson.databind.node.ObjectNode) entry.deepCopy();
      copy.putObject("payload");
      probe = copy;
    }
    Class<?> messageClass =
        isV3()
            ? com.asyncapi.v3._0_0.model.channel.message.Message.class
            : com.asyncapi.v2._6_0.model.channel.message.Message.class;
    try {
      ASYNCAPI_CORE.readValue(Json.JSON.writeValueAsString(probe), messageClass);
    } catch (JsonProcessingException | RuntimeException e) {
      throw new SchemaLoadException(
          display,
          "components.messages."
              + name
              + " is not a valid "
              + label()
              + " message: "
              + describe(e),
          e);
    }
  }

  private String label() {
    return isV3() ? "AsyncAPI 3.0" : "AsyncAPI 2.6";
  }

  /** Whether asyncapi-core read {@code entry} (a value of {@link #messages()}) as a message or a reference. */
  boolean isMessageOrReference(Object entry) {
    return entry instanceof Reference
        || entry instanceof com.asyncapi.v3._0_0.model.channel.message.Message
        || entry instanceof com.asyncapi.v2._6_0.model.channel.message.Message;
  }

  /**
   * The schema format asyncapi-core read for an inline message ({@code schemaFormat} of a 2.6
   * message, or of a 3.0 multi-format payload); {@code null} if it read none or the entry is a
   * reference (then the tree says).
   */
  static String schemaFormat(Object entry) {
    if (entry instanceof com.asyncapi.v2._6_0.model.channel.message.Message v2) {
      return v2.getSchemaFormat();
    }
    if (entry instanceof com.asyncapi.v3._0_0.model.channel.message.Message v3
        && v3.getPayload() instanceof MultiFormatSchema<?> multiFormat) {
      return multiFormat.getSchemaFormat();
    }
    return null;
  }

  /** One line: Jackson's own message and the path in the document where it failed. */
  private static String describe(Exception e) {
    String message = e.getMessage();
    if (e instanceof JsonProcessingException processing && processing.getOriginalMessage() != null) {
      message = processing.getOriginalMessage();
    }
    if (message == null) {
      message = e.getClass().getSimpleName();
    }
    int newline = message.indexOf('\n');
    if (newline >= 0) {
      message = message.substring(0, newline).strip();
    }
    if (e instanceof JsonMappingException mapping && !mapping.getPath().isEmpty()) {
      message += " (at " + path(mapping.getPath()) + ")";
    }
    return message;
  }

  private static String path(List<JsonMappingException.Reference> references) {
    StringBuilder path = new StringBuilder();
    for (JsonMappingException.Reference reference : references) {
      if (reference.getFieldName() != null) {
        if (path.length() > 0) {
          path.append('.');
        }
        path.append(reference.getFieldName());
      } else if (reference.getIndex() >= 0) {
        path.append('[').append(reference.getIndex()).append(']');
      }
    }
    return path.toString();
  }
}
