/* The reader's fast path (kdocs/resource/quick.py) in C: the same loop over libyaml's
 * events, without PyYAML turning each event and its two marks into Python objects first
 * (most of the time `kdocs validate` spends reading plain YAML).
 *
 * It is the same reader, not a second one: the same parser (libyaml, used only where its
 * version is the one PyYAML carries, checked in quick.py), the same rules line for line as
 * quick._documents, and the same way out: anything but the plain case returns None and the
 * file is read by the full reader. Scalars that resolve (numbers, yes/no, null) go to the
 * Python function that resolves them (kdocs.resource.scalars.plain). tests/resource/
 * test_quick.py reads every input with this, the Python fast path and the full reader.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <yaml.h>

/* The rules this loop follows, as quick.RULES numbers them: bumped with every change
 * of them, so that a module built from an older copy of this file (an editable install
 * not rebuilt after a pull) is not used. */
#define RULES 1

/* Why a file is not read here: the caller gives it to the full reader. */
#define GIVE_UP 1
#define FAILED 2 /* a Python exception that is a bug, not the input's fault: raised */

typedef struct {
    PyObject *cur; /* the open collection (NULL: at the root) */
    int is_map;
    PyObject *key; /* the key waiting for its value */
    int flow;
} Frame;

typedef struct {
    PyObject *plain;     /* scalars.plain(text, mark) */
    PyObject *mark;      /* what plain() is given as the mark: its errors are not kept */
    PyObject *words;     /* scalars.RESOLVED_WORDS */
    PyObject *doc_error; /* scalars.DocError: the input's fault, so give up */
    Py_ssize_t max_nodes, max_depth, max_documents;
} Rules;

static int number_like(const unsigned char *text, size_t length)
{
    return length == 0 || (text[0] != 0 && strchr("+-0123456789.", text[0]) != NULL);
}

/* Did the last Python call fail because of the input (give up) or of a bug (raise)? */
static int failure(const Rules *rules)
{
    if (PyErr_ExceptionMatches(rules->doc_error) || PyErr_ExceptionMatches(PyExc_MemoryError)
        || PyErr_ExceptionMatches(PyExc_RecursionError)) {
        PyErr_Clear();
        return GIVE_UP;
    }
    return FAILED;
}

/* A plain scalar that may resolve (empty, number-like or a word such as yes or null). */
static int resolves(const Rules *rules, PyObject *text, const yaml_event_t *event, int *answer)
{
    size_t length = event->data.scalar.length;
    if (!event->data.scalar.plain_implicit) {
        *answer = 0;
        return 0;
    }
    if (number_like(event->data.scalar.value, length)) {
        *answer = 1;
        return 0;
    }
    int found = PySet_Contains(rules->words, text);
    if (found < 0)
        return failure(rules);
    *answer = found;
    return 0;
}

/* A scalar event's text, as PyYAML decodes it, or NULL with *why set. */
static PyObject *scalar_text(const Rules *rules, const yaml_event_t *event, int *why)
{
    PyObject *text = PyUnicode_DecodeUTF8((const char *)event->data.scalar.value,
                                          (Py_ssize_t)event->data.scalar.length, "strict");
    if (text == NULL)
        *why = failure(rules);
    return text;
}

/* A mapping key, or NULL with *why set: GIVE_UP for a key that repeats, merges or
 * resolves (yes:, 80:), which only the full reader reads as kubectl does. */
static PyObject *mapping_key(const Rules *rules, PyObject *mapping, const yaml_event_t *event,
                             int *why)
{
    PyObject *text = scalar_text(rules, event, why);
    if (text == NULL)
        return NULL;
    int resolve = 0, repeats = PyDict_Contains(mapping, text);
    if (repeats < 0)
        *why = failure(rules);
    else if ((*why = resolves(rules, text, event, &resolve)) == 0
             && (repeats || resolve || PyUnicode_CompareWithASCIIString(text, "<<") == 0))
        *why = GIVE_UP;
    if (*why) {
        Py_DECREF(text);
        return NULL;
    }
    return text;
}

/* The value of a scalar event, or NULL with *why set. */
static PyObject *scalar_value(const Rules *rules, const yaml_event_t *event, int *why)
{
    PyObject *text = scalar_text(rules, event, why);
    if (text == NULL)
        return NULL;
    int resolve = 0;
    if ((*why = resolves(rules, text, event, &resolve)) != 0) {
        Py_DECREF(text);
        return NULL;
    }
    if (!resolve)
        return text;
    PyObject *value = PyObject_CallFunctionObjArgs(rules->plain, text, rules->mark, NULL);
    Py_DECREF(text);
    if (value == NULL)
        *why = failure(rules);
    return value;
}

/* The mark's 1-based line, as quick.py counts the last line of a document. */
static size_t end_line(const yaml_mark_t *mark)
{
    return mark->line + (mark->column > 0);
}

typedef struct {
    Frame *frames;
    Py_ssize_t depth, size;
} Stack;

static void clear_stack(Stack *stack, Frame *top)
{
    Py_CLEAR(top->cur);
    Py_CLEAR(top->key);
    for (Py_ssize_t i = 0; i < stack->depth; i++) {
        Py_CLEAR(stack->frames[i].cur);
        Py_CLEAR(stack->frames[i].key);
    }
    stack->depth = 0;
}

static int push(Stack *stack, const Frame *frame)
{
    if (stack->depth == stack->size) {
        Py_ssize_t size = stack->size ? stack->size * 2 : 16;
        Frame *grown = PyMem_Realloc(stack->frames, (size_t)size * sizeof(Frame));
        if (grown == NULL)
            return -1;
        stack->frames = grown;
        stack->size = size;
    }
    stack->frames[stack->depth++] = *frame;
    return 0;
}

/* Put a finished value (a new reference, stolen) into its parent, or make it the root. */
static int attach(Frame *top, PyObject **root, PyObject *value)
{
    int failed;
    if (top->cur == NULL) {
        Py_XSETREF(*root, value);
        return 0;
    }
    if (top->is_map) {
        failed = PyDict_SetItem(top->cur, top->key, value);
        Py_CLEAR(top->key);
    } else {
        failed = PyList_Append(top->cur, value);
    }
    Py_DECREF(value);
    return failed;
}

/* One YAML document, from after its start event up to and including its end event.
 * Returns 0 with *root (NULL: an empty document) and the lines, or GIVE_UP or FAILED. */
static int read_document(yaml_parser_t *parser, const Rules *rules, Py_ssize_t *nodes,
                         PyObject **root, size_t *first, size_t *last_line)
{
    Stack stack = {NULL, 0, 0};
    Frame top = {NULL, 0, NULL, 0};
    yaml_event_t event;
    const yaml_mark_t *last = NULL; /* end mark of the last scalar or flow collection */
    yaml_mark_t last_mark;
    int why = 0;

    for (;;) {
        if (!yaml_parser_parse(parser, &event)) {
            why = GIVE_UP; /* a YAML error: the full reader says which */
            break;
        }
        PyObject *value = NULL;
        switch (event.type) {
        case YAML_SCALAR_EVENT: {
            if (event.data.scalar.anchor != NULL || event.data.scalar.tag != NULL) {
                why = GIVE_UP; /* anchors and tags: the full reader */
                break;
            }
            if (top.is_map && top.key == NULL) {
                top.key = mapping_key(rules, top.cur, &event, &why);
                if (top.key == NULL)
                    break;
                *nodes += 1;
                yaml_event_delete(&event);
                continue;
            }
            *nodes += 1;
            value = scalar_value(rules, &event, &why);
            if (value == NULL)
                break;
            last_mark = event.end_mark;
            last = &last_mark;
            if (top.cur == NULL)
                *first = *last_line = event.start_mark.line + 1;
            break;
        }
        case YAML_MAPPING_START_EVENT:
        case YAML_SEQUENCE_START_EVENT: {
            int is_map = event.type == YAML_MAPPING_START_EVENT;
            const yaml_char_t *anchor = is_map ? event.data.mapping_start.anchor
                                               : event.data.sequence_start.anchor;
            const yaml_char_t *tag = is_map ? event.data.mapping_start.tag
                                            : event.data.sequence_start.tag;
            if (anchor != NULL || tag != NULL || (top.is_map && top.key == NULL)) {
                why = GIVE_UP; /* anchors, tags, a collection as a key */
                break;
            }
            if (stack.depth >= rules->max_depth) {
                why = GIVE_UP; /* it or its items would be deeper than max_depth */
                break;
            }
            *nodes += 1;
            if (top.cur == NULL)
                *first = *last_line = event.start_mark.line + 1;
            PyObject *fresh = is_map ? PyDict_New() : PyList_New(0);
            if (fresh == NULL || push(&stack, &top) < 0) {
                Py_XDECREF(fresh);
                if (!PyErr_Occurred())
                    PyErr_NoMemory();
                why = failure(rules);
                break;
            }
            top.cur = fresh;
            top.is_map = is_map;
            top.key = NULL;
            top.flow = is_map ? event.data.mapping_start.style == YAML_FLOW_MAPPING_STYLE
                              : event.data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;
            yaml_event_delete(&event);
            continue;
        }
        case YAML_MAPPING_END_EVENT:
        case YAML_SEQUENCE_END_EVENT:
            if (top.flow) {
                last_mark = event.end_mark;
                last = &last_mark;
            }
            value = top.cur;
            Py_CLEAR(top.key);
            top = stack.frames[--stack.depth];
            break;
        case YAML_DOCUMENT_END_EVENT:
            if (last != NULL && end_line(last) > *last_line)
                *last_line = end_line(last);
            yaml_event_delete(&event);
            PyMem_Free(stack.frames);
            return 0;
        default:
            why = GIVE_UP; /* an alias */
            break;
        }
        yaml_event_delete(&event);
        if (why)
            break;
        if (attach(&top, root, value) < 0) {
            why = failure(rules);
            break;
        }
    }
    clear_stack(&stack, &top);
    PyMem_Free(stack.frames);
    Py_CLEAR(*root);
    return why;
}

static int read_stream(yaml_parser_t *parser, const Rules *rules, PyObject *out)
{
    Py_ssize_t nodes = 0, index = -1, filled = 0;
    yaml_event_t event;

    for (;;) {
        if (!yaml_parser_parse(parser, &event))
            return GIVE_UP;
        yaml_event_type_t type = event.type;
        size_t first = event.start_mark.line + 1;
        yaml_event_delete(&event);
        if (type == YAML_STREAM_END_EVENT)
            return 0;
        if (type != YAML_DOCUMENT_START_EVENT)
            continue;
        index += 1;
        size_t last_line = first;
        PyObject *root = NULL;
        int why = read_document(parser, rules, &nodes, &root, &first, &last_line);
        if (why)
            return why;
        if (nodes > rules->max_nodes) {
            Py_XDECREF(root);
            return GIVE_UP;
        }
        if (root != NULL && root != Py_None && ++filled > rules->max_documents) {
            Py_DECREF(root);
            return GIVE_UP;
        }
        PyObject *item = Py_BuildValue("(nN(nn))", index, root ? root : Py_NewRef(Py_None),
                                       (Py_ssize_t)first, (Py_ssize_t)last_line);
        if (item == NULL)
            return failure(rules);
        int failed = PyList_Append(out, item);
        Py_DECREF(item);
        if (failed < 0)
            return failure(rules);
    }
}

PyDoc_STRVAR(documents_doc,
"documents(data, plain, mark, words, doc_error, max_nodes, max_depth, max_documents)\n"
"--\n\n"
"quick._documents over libyaml's events: [(index, value, (first, last line))], or None\n"
"where the full reader must read the file.");

static PyObject *documents(PyObject *module, PyObject *args)
{
    Py_buffer data;
    Rules rules;
    if (!PyArg_ParseTuple(args, "y*OOOOnnn:documents", &data, &rules.plain, &rules.mark,
                          &rules.words, &rules.doc_error, &rules.max_nodes, &rules.max_depth,
                          &rules.max_documents))
        return NULL;
    PyObject *out = PyList_New(0);
    if (out == NULL) {
        PyBuffer_Release(&data);
        return NULL;
    }
    yaml_parser_t parser;
    int why = GIVE_UP;
    if (yaml_parser_initialize(&parser)) {
        yaml_parser_set_input_string(&parser, data.buf, (size_t)data.len);
        why = read_stream(&parser, &rules, out);
        yaml_parser_delete(&parser);
    }
    PyBuffer_Release(&data);
    if (why == 0)
        return out;
    Py_DECREF(out);
    if (why == FAILED)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *libyaml_version(PyObject *module, PyObject *unused)
{
    int major, minor, patch;
    yaml_get_version(&major, &minor, &patch);
    return Py_BuildValue("(iii)", major, minor, patch);
}

static PyMethodDef methods[] = {
    {"documents", documents, METH_VARARGS, documents_doc},
    {"libyaml_version", libyaml_version, METH_NOARGS,
     "The (major, minor, patch) of the libyaml this module was linked with."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "kdocs.resource._quickc",
    "The reader's fast path over libyaml's events (see quick.py).", -1, methods,
};

PyMODINIT_FUNC PyInit__quickc(void)
{
    PyObject *created = PyModule_Create(&module);
    if (created != NULL && PyModule_AddIntConstant(created, "RULES", RULES) < 0)
        Py_CLEAR(created);
    return created;
}
