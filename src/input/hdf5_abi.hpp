#pragma once
// Private to src/input/ and the module prs_h5.so: the C ABI of the module's read side (read_hdf5 tables).
//
// prs_mpi itself has no libhdf5 in its image, so neither has the entry script's process (prs_mpi --python-process,
// the same executable) beside a script's own h5py. Every HDF5 call of an HDF5 input is in prs_h5.so
// (src/input/hdf5_access.cpp), which only the ranks load with dlopen (src/input/hdf5_module.cpp); prs_core keeps
// the planning (which types are columns, the shapes' checks, every error message, the row ranges).
//
// Plain C: structs of integers and pointers, one table of function pointers under a versioned name. A call that
// can fail returns NULL on success, else the reason ("/d/a.h5: reading rows 0..4: ..."), valid until the module's
// next call on the same thread; no C++ exception crosses the boundary. Handles are closed by their close call.
#include <stddef.h>
#include <stdint.h>

extern "C" {

// The class of an HDF5 type (HDF5's H5T_class_t, under our own numbers).
enum PrsH5Class {
  PRS_H5_INTEGER, PRS_H5_FLOAT, PRS_H5_TIME, PRS_H5_STRING, PRS_H5_BITFIELD, PRS_H5_OPAQUE, PRS_H5_COMPOUND,
  PRS_H5_REFERENCE, PRS_H5_ENUM, PRS_H5_VLEN, PRS_H5_ARRAY, PRS_H5_UNKNOWN
};

struct PrsH5Member;

// A type in the file: a dataset's, or a compound field's.
struct PrsH5Type {
  int32_t type_class;          // a PrsH5Class
  uint64_t size;               // bytes of one value in the file (a variable-length string: of its pointer)
  int32_t is_signed;           // an integer: two's complement
  int32_t is_variable;         // a string: variable-length
  int32_t is_utf8;             // a string: UTF-8 (else ASCII)
  uint32_t members;            // a compound: its fields; an enum: its members
  const PrsH5Member* member;   // [members]
};

// A compound's field (name and type) or an enum's member (name and value).
struct PrsH5Member {
  const char* name;            // the field's or member's name
  PrsH5Type type;              // a field's type
  int64_t value;               // a member's value (0 when the enum's integers are wider than 8 bytes)
};

// A dataset's shape and type, owned by its handle.
struct PrsH5Shape {
  int32_t rank;                // dimensions (0: a scalar)
  const uint64_t* dims;        // [rank]
  PrsH5Type type;              // the element type
};

// The kind of a value in memory, which HDF5 converts the file's values to.
enum PrsH5ValueKind {
  PRS_H5_MEM_INT,              // a native signed integer of size 1, 2, 4 or 8 bytes
  PRS_H5_MEM_UINT,             // a native unsigned integer of size 1, 2, 4 or 8 bytes
  PRS_H5_MEM_FLOAT,            // float (4), double (8) or long double (sizeof(long double))
  PRS_H5_MEM_BOOL,             // h5py's bool: an enum FALSE = 0, TRUE = 1 of a native integer of size bytes
  PRS_H5_MEM_STRING,           // a fixed-length string of size bytes, NUL-padded
  PRS_H5_MEM_VLEN_STRING       // a variable-length string: a char* that the module allocates (see reclaim)
};

// One value's type in memory.
struct PrsH5Value {
  int32_t kind;                // a PrsH5ValueKind
  uint64_t size;               // bytes in memory
  int32_t is_utf8;             // a string: the character set of the file's (HDF5 converts none)
};

// Where a value lies in a read row: a compound's field by name, or (name NULL) the dataset's element.
struct PrsH5Field {
  const char* name;            // the file's field; NULL: the element of a non-compound dataset
  uint64_t offset;             // bytes from the row's start
  PrsH5Value value;            // its type in memory
};

struct PrsH5File;              // an open file (opaque)
struct PrsH5Dataset;           // an open dataset, its shape and, once set, its memory type (opaque)

// Version 1 of the module's read side.
struct PrsH5InputV1 {
  // Opens path read-only with the serial (sec2) driver. *file NULL and *is_hdf5 0 when it is no HDF5 file.
  const char* (*open_file)(const char* path, PrsH5File** file, int32_t* is_hdf5);
  // Closes a file (NULL: nothing); its datasets are closed first.
  void (*close_file)(PrsH5File* file);
  // Opens the dataset at path and reads its shape and type. *dataset NULL (no error) when no dataset is there.
  const char* (*open_dataset)(PrsH5File* file, const char* path, PrsH5Dataset** dataset);
  // Closes a dataset (NULL: nothing).
  void (*close_dataset)(PrsH5Dataset* dataset);
  // The dataset's shape and type, valid while it is open.
  const PrsH5Shape* (*shape)(const PrsH5Dataset* dataset);
  // Sets the memory type of a row: one field named NULL (the element; a 2-D dataset's row is dims[1] of them), or
  // a compound's fields packed into row_bytes.
  const char* (*set_memory)(PrsH5Dataset* dataset, const PrsH5Field* fields, uint32_t count, uint64_t row_bytes);
  // Reads rows [first, first + count) (all columns of a 2-D dataset) into buffer, which holds bytes bytes.
  const char* (*read_rows)(PrsH5Dataset* dataset, uint64_t first, uint64_t count, void* buffer, uint64_t bytes);
  // Frees the variable-length strings a read of count rows allocated in buffer (nothing when it has none); a
  // zeroed buffer is safe.
  void (*reclaim)(PrsH5Dataset* dataset, uint64_t count, void* buffer);
};

// The module's read side; its name carries the version.
typedef const PrsH5InputV1* (*PrsH5InputEntry)(void);

}  // extern "C"

// The name the module exports its PrsH5InputEntry under.
#define PRS_H5_INPUT_SYMBOL "prs_h5_input_v1"
