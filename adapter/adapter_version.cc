// placeholder so the library has a source until the adapter lands
namespace nukihil::adapter {}
